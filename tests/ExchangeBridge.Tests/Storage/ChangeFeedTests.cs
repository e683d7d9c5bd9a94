using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Storage;

/// <summary>
/// The commit hook: what a write declares it touched reaches the caches after its commit, with no code beside the
/// write. Callers are cached here for ten minutes, so only the hook can make a change of standing show.
/// </summary>
public sealed class ChangeFeedTests() : ServerTests(new TestServer(settings: new Dictionary<string, string?> { ["ExchangeBridge:TokenCacheSeconds"] = "600" }))
{
    private const string Binding = "/open-apis/calendar/v4/exchange_bindings/" +
        "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private IDatabase Database => Server.Services.GetRequiredService<IDatabase>();

    public override async Task InitializeAsync()
    {
        // On PostgreSQL the caches wait until this instance hears the others.
        var started = DateTime.UtcNow;
        while (!Database.Changes.CachesMayServe)
        {
            Assert.True(DateTime.UtcNow - started < Deadline, "the change listener never started listening");
            await Task.Yield();
        }
    }

    private static readonly PreparedStatement Demote = new(
        "UPDATE users SET is_super_admin = @superAdmin WHERE tenant_key = @tenantKey AND user_id = @userId");

    private Task DemoteTheAdministratorAsync(Touched declared) =>
        Database.WriteAsync(declared, (c, tx, ct) => c.ExecuteAsync(tx, Demote,
            [("superAdmin", false), ("tenantKey", Server.Bootstrap.TenantKey), ("userId", Server.Bootstrap.AdminUserId)], ct));

    [Fact]
    public async Task A_write_that_declares_the_user_it_touched_refreshes_the_cached_callers_with_no_other_code()
    {
        var admin = await Server.AdminUserTokenAsync();
        // A binding that does not exist: the caller was let through (and cached) to be told so.
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, Binding, null, admin), 404, 195103);

        // Declared as touching nothing, the demotion is not seen: the caller comes from memory.
        await DemoteTheAdministratorAsync(Touched.Nothing);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, Binding, null, admin), 404, 195103);

        await DemoteTheAdministratorAsync(Touched.Rows(TouchedKinds.Users));
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, Binding, null, admin), 403, 195101);
    }

    [Fact]
    public void What_a_write_touched_crosses_to_other_instances_unchanged_and_a_garbled_message_forgets_everything()
    {
        var touched = new Touched(TouchedKinds.Binding | TouchedKinds.Users, 42);
        Assert.Equal(touched, Touched.FromPayload(touched.ToPayload()));
        Assert.Equal(TouchedKinds.Everything, Touched.FromPayload("not a change").Kinds);
    }
}
