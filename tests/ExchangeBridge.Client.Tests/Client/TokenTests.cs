using System.Net;
using ExchangeBridge.Client.Tests.Infrastructure;

namespace ExchangeBridge.Client.Tests.Client;

/// <summary>Tokens are the client's business: fetched, cached, and refreshed when the server will not take them.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class TokenTests(SharedServer fixture)
{
    private const string Bindings = "/open-apis/calendar/v4/exchange_bindings";
    private const string TenantToken = "/open-apis/auth/v3/tenant_access_token/internal";
    private const string CodeGrant = "/open-apis/authen/v1/oidc/access_token";
    private const string RefreshGrant = "/open-apis/authen/v1/oidc/refresh_access_token";

    /// <summary>Well-formed (a user token's prefix) but never issued: the server calls it invalid (99991668).</summary>
    private const string NeverIssued = "u-neverissuedneverissuedneverissuedneverissued";

    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task The_tenant_token_is_fetched_on_first_use_and_reused()
    {
        using var recorder = new RecordingHandler();
        using var client = new FeishuClient(Server.ClientOptions(recorder));

        await client.ExchangeAuthorizationCodeAsync(await Server.MintCodeAsync(Server.Bootstrap.AdminOpenId));
        await client.ExchangeAuthorizationCodeAsync(await Server.MintCodeAsync(Server.Bootstrap.AdminOpenId));

        Assert.Single(recorder.To(TenantToken));
        var tenantToken = await client.GetTenantAccessTokenAsync();
        Assert.StartsWith("t-", tenantToken);
        Assert.All(recorder.To(CodeGrant), e => Assert.Equal(tenantToken, e.Bearer));
        Assert.Equal(2, recorder.To(CodeGrant).Count);
    }

    [Fact]
    public async Task A_refused_user_token_is_refreshed_and_the_call_sent_again()
    {
        var user = await NewUserAsync("refused");
        var issued = await Server.SuperAdminTokensAsync();
        using var session = new Session(Server, NeverIssued, issued.RefreshToken);

        var binding = await session.Client.CreateExchangeBindingAsync(BindingOf(user), UserIdType.UserId);

        Assert.Equal(ExchangeBindingStatus.Doing, binding.Status);
        var renewed = Assert.Single(session.Changes);
        Assert.NotEqual(issued.AccessToken, renewed.AccessToken);
        Assert.NotEqual(issued.RefreshToken, renewed.RefreshToken);
        Assert.Collection(session.Recorder.Exchanges,
            refused =>
            {
                Assert.Equal((Bindings + "?user_id_type=user_id", NeverIssued, HttpStatusCode.BadRequest), (refused.Path, refused.Bearer, refused.Status));
            },
            tenantToken => Assert.Equal(TenantToken, tenantToken.Path),
            refresh => Assert.Equal((RefreshGrant, HttpStatusCode.OK), (refresh.Path, refresh.Status)),
            again => Assert.Equal((Bindings + "?user_id_type=user_id", renewed.AccessToken, HttpStatusCode.OK), (again.Path, again.Bearer, again.Status)));
    }

    [Fact]
    public async Task Concurrent_calls_with_a_refused_token_share_one_refresh()
    {
        // A refresh token is single use: a second refresh with it would fail, and so would the call that made it.
        var issued = await Server.SuperAdminTokensAsync();
        using var session = new Session(Server, NeverIssued, issued.RefreshToken);

        var calls = Enumerable.Range(0, 8).Select(i => Assert.ThrowsAsync<FeishuApiException>(() =>
            session.Client.GetExchangeBindingAsync(Ids.Binding(ServerProcess.DemoAdminAccount, $"concurrent-{i}@contoso.example"))));
        var refusals = await Task.WhenAll(calls);

        Assert.All(refusals, e => Assert.Equal(195103, e.Code)); // past authentication: the bindings do not exist
        Assert.Single(session.Recorder.To(RefreshGrant));
    }

    [Fact]
    public async Task A_user_token_past_its_known_expiry_is_refreshed_before_it_is_sent()
    {
        var user = await NewUserAsync("expired");
        var issued = await Server.SuperAdminTokensAsync();
        using var session = new Session(Server, issued.AccessToken, issued.RefreshToken, expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1));

        await session.Client.CreateExchangeBindingAsync(BindingOf(user), UserIdType.UserId);
        await session.Client.GetExchangeBindingAsync(Ids.Binding(ServerProcess.DemoAdminAccount, $"{user}@contoso.example"));

        var renewed = Assert.Single(session.Changes);
        Assert.Single(session.Recorder.To(RefreshGrant));
        var calls = session.Recorder.To(Bindings);
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal((renewed.AccessToken, HttpStatusCode.OK), (c.Bearer, c.Status)));
        Assert.True(renewed.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(30), $"the new token expires at {renewed.ExpiresAt}");
    }

    private static CreateExchangeBindingRequest BindingOf(string user) =>
        new(ServerProcess.DemoAdminAccount, $"{user}@contoso.example", user);

    /// <summary>A client configured with these user tokens, its traffic recorded and the tokens it obtains kept.</summary>
    private sealed class Session : IDisposable
    {
        public Session(ServerProcess server, string accessToken, string refreshToken, DateTimeOffset? expiresAt = null)
        {
            var options = server.ClientOptions(Recorder);
            options.UserAccessToken = accessToken;
            options.UserRefreshToken = refreshToken;
            options.UserAccessTokenExpiresAt = expiresAt;
            options.UserTokensChanged = tokens =>
            {
                lock (Changes) Changes.Add(tokens);
            };
            Client = new FeishuClient(options);
        }

        public RecordingHandler Recorder { get; } = new();
        public FeishuClient Client { get; }
        public List<UserTokens> Changes { get; } = [];

        public void Dispose()
        {
            Client.Dispose();
            Recorder.Dispose();
        }
    }

    private async Task<string> NewUserAsync(string purpose)
    {
        var user = $"token-{purpose}-{Guid.NewGuid():N}"[..32];
        await Server.CreateUsersAsync([user]);
        return user;
    }
}
