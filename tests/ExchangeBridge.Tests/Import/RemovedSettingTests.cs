using ExchangeBridge.Testing;

namespace ExchangeBridge.Tests.Import;

/// <summary>A setting the import no longer reads is said so at start-up, with what replaced it, rather than silently ignored.</summary>
[Trait("Database", "Independent")]
public sealed class RemovedSettingTests
{
    [Fact]
    public async Task The_old_per_admin_account_cap_is_named_at_start_up_with_the_settings_that_replaced_it()
    {
        await using var server = await ServerProcess.StartAsync(dataDir: null, new Dictionary<string, string>
        {
            ["ExchangeBridge__Import__MaxJobsPerAdminAccount"] = "2",
        });
        await Eventually.TrueAsync(() => server.Output.Contains("ExchangeBridge:Import:MaxJobsPerAdminAccount is no longer read", StringComparison.Ordinal) &&
                                         server.Output.Contains("MaxJobsPerEwsAdminAccount", StringComparison.Ordinal),
            "the start-up warning", TimeSpan.FromSeconds(30));
    }
}
