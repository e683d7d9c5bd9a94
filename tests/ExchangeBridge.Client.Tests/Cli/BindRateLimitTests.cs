using System.Text.RegularExpressions;
using ExchangeBridge.Client.Tests.Infrastructure;

namespace ExchangeBridge.Client.Tests.Cli;

/// <summary><c>exbridge bind</c> against a server that takes one create per second: it waits, and binds every row.</summary>
[Collection(RateLimitedServerCollection.Name)]
public sealed class BindRateLimitTests(RateLimitedServer fixture) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("exbridge-ratelimit-test-").FullName;

    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task Bind_backs_off_on_rate_limits_and_binds_every_row()
    {
        var mapping = MappingCsv.Generate("limited", 4, badRows: false);
        await Server.CreateUsersAsync(mapping.Users);
        var csv = await mapping.WriteAsync(_folder);
        var createdBefore = await Server.BindingsCreatedAsync();

        var run = await new Exbridge(Server, _folder).RunAsync("bind", "--csv", csv, "--admin-account", ServerProcess.DemoAdminAccount,
            "--concurrency", "4");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("bound 4 now, 0 earlier; failed 0; invalid 0", run.Stdout);
        var waits = int.Parse(Regex.Match(run.Stdout, @"rate-limit waits (\d+)").Groups[1].Value);
        Assert.True(waits >= 1, run.ToString());
        Assert.Equal(4, await Server.BindingsCreatedAsync() - createdBefore);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
