using System.Net;
using System.Net.Sockets;
using ExchangeBridge.Server.Hosting;

namespace ExchangeBridge.Tests.Hosting;

/// <summary>What an operator sees when the server will not start: one line saying why, and a failing exit code.</summary>
[Trait("Database", "Independent")]
public sealed class StartupRefusalTests
{
    [Fact]
    public async Task A_port_in_use_is_refused_in_one_line()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, output) = await ServerProcess.RunUntilExitAsync(new ServerLaunch { Port = port });

        AssertRefusedInOneLine(exitCode, output, $"Failed to bind to address http://127.0.0.1:{port}: address already in use.");
    }

    [Fact]
    public async Task A_data_folder_owned_by_a_running_server_is_refused_in_one_line()
    {
        await using var owner = await ServerProcess.StartAsync(demo: false);

        var (exitCode, output) = await ServerProcess.RunUntilExitAsync(new ServerLaunch { DataDir = owner.DataDir, Demo = false });

        AssertRefusedInOneLine(exitCode, output, "is in use by another ExchangeBridge server");
        Assert.False(owner.HasExited);
    }

    [Theory]
    [InlineData("ExchangeBridge__TokenCacheSeconds", "-1", "ExchangeBridge:TokenCacheSeconds must not be negative.")]
    [InlineData("ExchangeBridge__TokenCacheSeconds", "ten", "'ten' at 'ExchangeBridge:TokenCacheSeconds'")]
    [InlineData("ExchangeBridge__Import__Workers", "-1", "ExchangeBridge:Import:Workers must not be negative")]
    [InlineData("ExchangeBridge__RateLimits__AppPerSecond", "0", "ExchangeBridge:RateLimits:AppPerSecond must be positive.")]
    [InlineData("ExchangeBridge__MasterKey", "not-a-key", "ExchangeBridge:MasterKey must be 32 bytes, base64-encoded.")]
    public async Task A_bad_setting_is_refused_in_one_line(string variable, string value, string reason)
    {
        var (exitCode, output) = await ServerProcess.RunUntilExitAsync(new ServerLaunch
        {
            Environment = new Dictionary<string, string> { [variable] = value },
        });

        AssertRefusedInOneLine(exitCode, output, reason);
    }

    private static void AssertRefusedInOneLine(int exitCode, string output, string reason)
    {
        Assert.Equal(StartupRefusals.ExitCode, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("ExchangeBridge refused to start: ", line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
    }
}
