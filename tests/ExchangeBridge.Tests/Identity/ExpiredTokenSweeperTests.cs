using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Identity;

public sealed class ExpiredTokenSweeperTests
{
    [Fact]
    public async Task Expired_tokens_and_codes_are_removed_and_live_ones_kept()
    {
        await using var server = new TestServer(demo: false);
        var (expiring, _) = await server.UserTokensAsync();
        await server.MintCodeAsync(server.Bootstrap.AdminOpenId);
        server.Clock.Advance(TimeSpan.FromHours(3)); // past the user and tenant tokens and the code, not the refresh token
        var (live, _) = await server.UserTokensAsync();

        var store = server.Services.GetRequiredService<IdentityStore>();
        var removed = await store.DeleteExpiredAsync(server.Clock.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
        Assert.Equal(4, removed); // user token, tenant token, and the two codes (one spent, one not)

        await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, expiring), 400, 99991668);
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, live));
    }
}
