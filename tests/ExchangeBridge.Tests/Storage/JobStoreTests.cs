using ExchangeBridge.Server.Import;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Import;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Tests.Storage;

/// <summary>
/// Tests of <see cref="JobStore"/>'s claims and leases. No worker runs: the test claims, renews and ends jobs as workers
/// would, at times it names on the server's clock, with the claim limits the server was configured with.
/// </summary>
public abstract class JobStoreTests(IReadOnlyDictionary<string, string?>? settings = null)
    : ImportWorldTests(SimulatedConnector.Ews, WithoutWorkers(settings))
{
    protected const long LeaseMs = 60_000;

    protected JobStore Jobs => World.Server.Services.GetRequiredService<JobStore>();

    protected ClaimLimits Limits => World.Server.Services.GetRequiredService<IOptions<ImportOptions>>().Value.ClaimLimits;

    /// <summary>Now on the server's clock, as the store's times are kept (Unix milliseconds).</summary>
    protected long Now => World.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A worker of <paramref name="instance"/> looking for a due job at <paramref name="at"/>, no admin account saturated.</summary>
    protected Task<JobRecord?> ClaimAsync(string instance, long at) => Jobs.TryClaimAsync(instance, at, LeaseMs, Limits, [], default);

    private static Dictionary<string, string?> WithoutWorkers(IReadOnlyDictionary<string, string?>? settings) =>
        new(settings ?? new Dictionary<string, string?>()) { ["ExchangeBridge:Import:Workers"] = "0" };
}
