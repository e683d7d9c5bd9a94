using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using ExchangeBridge.Cli.Output;

namespace ExchangeBridge.Cli.Binding;

/// <summary>What a bind run has done so far, updated by its workers and read by the progress display.</summary>
internal sealed class BindCounters(int total)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _bound;
    private int _failed;
    private int _rateLimitWaits;

    public int Total => total;
    public int Bound => Volatile.Read(ref _bound);
    public int Failed => Volatile.Read(ref _failed);
    public int Done => Bound + Failed;
    public int RateLimitWaits => Volatile.Read(ref _rateLimitWaits);

    public void CountBound() => Interlocked.Increment(ref _bound);
    public void CountFailed() => Interlocked.Increment(ref _failed);
    public void CountRateLimitWait() => Interlocked.Increment(ref _rateLimitWaits);

    /// <summary>Rows per second since the run started.</summary>
    public double Rate => _clock.Elapsed.TotalSeconds > 0 ? Done / _clock.Elapsed.TotalSeconds : 0;

    public TimeSpan? Eta => Rate > 0 ? TimeSpan.FromSeconds((Total - Done) / Rate) : null;

    public string RateAndEta =>
        string.Create(CultureInfo.InvariantCulture, $"{Rate:0.0} rows/s ETA {(Eta is { } eta ? eta.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--")}");

    public string Line => string.Create(CultureInfo.InvariantCulture,
        $"progress {Done}/{Total} {(Total == 0 ? 100 : 100.0 * Done / Total):0.0}% {RateAndEta} failed={Failed} rate-limit-waits={RateLimitWaits}");
}

/// <summary>
/// Shows a bind run: on a terminal a live progress bar with rate and ETA; otherwise (redirected to a file or a pipe) a
/// plain line every few seconds and one at the end, which a log keeps readable.
/// </summary>
internal static class BindProgress
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(2);

    public static Task RunAsync(BindCounters counters, bool terminal, Func<Task> work) =>
        terminal ? RunBarAsync(counters, work) : RunPlainAsync(counters, work);

    private static async Task RunBarAsync(BindCounters counters, Func<Task> work)
    {
        var console = CliConsole.Out;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RateColumn(counters), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("bind", maxValue: Math.Max(1, counters.Total));
                var running = work();
                while (!running.IsCompleted)
                {
                    Update(task, counters);
                    await Task.WhenAny(running, Task.Delay(TimeSpan.FromMilliseconds(200))).ConfigureAwait(false);
                }
                Update(task, counters);
                if (counters.Total == 0) task.Value = task.MaxValue;
                await running.ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    private static void Update(ProgressTask task, BindCounters counters)
    {
        task.Value = counters.Done;
        task.Description = counters.Failed == 0 && counters.RateLimitWaits == 0 ? "bind"
            : $"bind [red]{counters.Failed} failed[/] [yellow]{counters.RateLimitWaits} rate-limit waits[/]";
    }

    private static async Task RunPlainAsync(BindCounters counters, Func<Task> work)
    {
        var running = work();
        var last = -1;
        while (!running.IsCompleted)
        {
            await Task.WhenAny(running, Task.Delay(PlainInterval)).ConfigureAwait(false);
            if (running.IsCompleted || counters.Done == last) continue;
            last = counters.Done;
            Console.Out.WriteLine(counters.Line);
        }
        Console.Out.WriteLine(counters.Line);
        await running.ConfigureAwait(false);
    }

    /// <summary>"48.1 rows/s ETA 00:00:17" beside the bar.</summary>
    private sealed class RateColumn(BindCounters counters) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(counters.RateAndEta, new Style(Color.Grey));
    }
}
