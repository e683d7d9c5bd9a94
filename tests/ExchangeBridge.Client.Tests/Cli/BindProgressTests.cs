using ExchangeBridge.Client.Tests.Infrastructure;

namespace ExchangeBridge.Client.Tests.Cli;

/// <summary>How <c>exbridge bind</c> shows its progress: a live bar on a terminal, plain lines anywhere else.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class BindProgressTests(SharedServer fixture) : IDisposable
{
    private const int Rows = 200;
    private readonly string _folder = Directory.CreateTempSubdirectory("exbridge-progress-test-").FullName;

    private ServerProcess Server => fixture.Server;
    private Exbridge Cli => new(Server, _folder);

    [Fact]
    public async Task On_a_terminal_a_progress_bar_shows_rate_and_eta()
    {
        var csv = await MappingAsync("terminal");

        var run = await Cli.RunInTerminalAsync("bind", "--csv", csv, "--admin-account", ServerProcess.DemoAdminAccount);

        Assert.True(run.ExitCode == 0, run.ToString());
        var screen = run.Stdout;
        Assert.Contains("\u001b[", screen);      // drawn with escapes: redrawn in place, coloured
        Assert.Contains("━━━━━", screen);        // the bar
        Assert.Contains("100%", screen);         // and where it ends
        Assert.Matches(@"\d+\.\d rows/s", screen);
        Assert.Matches(@"ETA \d\d:\d\d:\d\d", screen);
        Assert.DoesNotContain("progress 200/200", screen); // not the plain lines
        Assert.Contains($"bound {Rows} now, 0 earlier; failed 0; invalid 0", screen);
    }

    [Fact]
    public async Task Redirected_the_progress_is_plain_lines()
    {
        var csv = await MappingAsync("plain");

        var run = await Cli.RunAsync("bind", "--csv", csv, "--admin-account", ServerProcess.DemoAdminAccount);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain('\u001b', run.Stdout);
        Assert.DoesNotContain('\r', run.Stdout);
        Assert.Matches(@$"(?m)^progress {Rows}/{Rows} 100\.0% \d+\.\d rows/s ETA \d\d:\d\d:\d\d failed=0 rate-limit-waits=0$", run.Stdout);
        Assert.Contains($"bound {Rows} now, 0 earlier; failed 0; invalid 0", run.Stdout);
    }

    private async Task<string> MappingAsync(string prefix)
    {
        var mapping = MappingCsv.Generate(prefix, Rows, badRows: false);
        await Server.CreateUsersAsync(mapping.Users);
        return await mapping.WriteAsync(_folder);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
