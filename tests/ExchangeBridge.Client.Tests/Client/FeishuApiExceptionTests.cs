using System.Net;
using ExchangeBridge.Client.Tests.Infrastructure;

namespace ExchangeBridge.Client.Tests.Client;

/// <summary>Every refusal is one exception carrying what an operator needs: the code, the msg, and the log id to quote.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class FeishuApiExceptionTests(SharedServer fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task An_unknown_binding_carries_195103_its_msg_and_the_answers_log_id()
    {
        using var recorder = new RecordingHandler();
        using var client = await Server.SuperAdminClientAsync(Server.ClientOptions(recorder));
        var id = Ids.Binding(ServerProcess.DemoAdminAccount, $"nobody-{Guid.NewGuid():N}@contoso.example");

        var e = await Assert.ThrowsAsync<FeishuApiException>(() => client.GetExchangeBindingAsync(id));

        Assert.Equal(195103, e.Code);
        Assert.Equal("exchange account binding is not found", e.Msg);
        Assert.Equal(HttpStatusCode.NotFound, e.Status);
        var answer = Assert.Single(recorder.To("/open-apis/calendar/v4/exchange_bindings/"));
        Assert.False(string.IsNullOrEmpty(answer.LogId));
        Assert.Equal(answer.LogId, e.LogId);
        Assert.Contains(e.LogId!, e.Message);
        // The id finds the server's side of the story: its request log line.
        await Eventually.TrueAsync(() => Server.Output.Contains($"log_id={e.LogId} GET", StringComparison.Ordinal), "the request's log line");
    }

    [Fact]
    public async Task A_user_outside_the_tenant_carries_195100()
    {
        using var client = await Server.SuperAdminClientAsync();

        var e = await Assert.ThrowsAsync<FeishuApiException>(() => client.CreateExchangeBindingAsync(
            new CreateExchangeBindingRequest(ServerProcess.DemoAdminAccount, "stranger@contoso.example", "no-such-user"), UserIdType.UserId));

        Assert.Equal((195100, "user is dismiss or not exist in the tenant", HttpStatusCode.NotFound), (e.Code, e.Msg, e.Status));
        Assert.False(e.IsRateLimited);
        Assert.NotNull(e.LogId);
    }

    [Fact]
    public async Task A_refusal_sent_with_http_200_is_still_an_exception()
    {
        // The OIDC endpoints answer refusals with HTTP 200 and a non-zero code, as the platform's do.
        using var client = new FeishuClient(Server.ClientOptions());

        var e = await Assert.ThrowsAsync<FeishuApiException>(() => client.ExchangeAuthorizationCodeAsync("not-a-code-anyone-minted"));

        Assert.Equal((20003, HttpStatusCode.OK), (e.Code, e.Status));
        Assert.Contains("code", e.Msg, StringComparison.OrdinalIgnoreCase);
    }
}
