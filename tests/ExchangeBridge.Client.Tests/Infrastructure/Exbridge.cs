using System.Diagnostics;
using System.Text;

namespace ExchangeBridge.Client.Tests.Infrastructure;

/// <summary>What a finished exbridge run said and how it ended.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// The built exbridge CLI run as a real process against a test server, configured as an operator would: by
/// environment variables (base URL, app, operator key, the super administrator's open_id).
/// </summary>
public sealed class Exbridge(ServerProcess server, string workingDirectory)
{
    /// <summary>A guard against a hung run, far above what any run here takes.</summary>
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    public static string Dll => ServerProcess.RepositoryFile("src", "ExchangeBridge.Cli", "exbridge.dll");

    private Dictionary<string, string> Environment { get; } = new()
    {
        ["EXBRIDGE_BASE_URL"] = server.BaseAddress.ToString(),
        ["EXBRIDGE_APP_ID"] = server.Bootstrap.AppId,
        ["EXBRIDGE_APP_SECRET"] = server.Bootstrap.AppSecret,
        ["EXBRIDGE_OPERATOR_KEY"] = server.Bootstrap.OperatorKey,
        ["EXBRIDGE_OPEN_ID"] = server.Bootstrap.AdminOpenId,
    };

    /// <summary>Runs to the end with standard output and error redirected (not a terminal).</summary>
    public async Task<CliRun> RunAsync(params string[] args)
    {
        using var run = Start(args);
        return await run.WaitAsync();
    }

    /// <summary>Starts a run and leaves it going; its output is read as it comes, so it never blocks on a full pipe.</summary>
    public RunningCli Start(params string[] args)
    {
        var info = StartInfo("dotnet");
        info.ArgumentList.Add(Dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return new RunningCli(Process.Start(info)!, Limit);
    }

    /// <summary>
    /// Runs in a pseudo-terminal, as a person at a terminal would (util-linux <c>script</c>), and answers everything
    /// the terminal showed, escapes included.
    /// </summary>
    public async Task<CliRun> RunInTerminalAsync(params string[] args)
    {
        var command = string.Join(' ', new[] { "dotnet", Dll }.Concat(args).Select(Quote));
        var info = StartInfo("script");
        foreach (var arg in new[] { "-qfec", command, "/dev/null" }) info.ArgumentList.Add(arg);
        info.Environment["TERM"] = "xterm-256color";
        using var run = new RunningCli(Process.Start(info)!, Limit);
        return await run.WaitAsync();
    }

    private ProcessStartInfo StartInfo(string fileName)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("EXBRIDGE_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(name);
        foreach (var (key, value) in Environment) info.Environment[key] = value;
        return info;
    }

    private static string Quote(string arg) => "'" + arg.Replace("'", "'\\''") + "'";
}

/// <summary>An exbridge process under way.</summary>
public sealed class RunningCli : IDisposable
{
    private readonly Process _process;
    private readonly TimeSpan _limit;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    public RunningCli(Process process, TimeSpan limit)
    {
        _process = process;
        _limit = limit;
        _process.StandardInput.Close();
        _stdout = _process.StandardOutput.ReadToEndAsync();
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL: no cleanup, no flush, as a crash or a closed laptop lid.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public async Task<CliRun> WaitAsync()
    {
        using var timeout = new CancellationTokenSource(_limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"exbridge did not finish within {_limit}");
        }
        return new CliRun(_process.ExitCode, await _stdout, await _stderr);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
