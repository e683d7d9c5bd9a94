using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Identity;

/// <summary>Refusals whose fix the platform's msg does not tell carry a hint in error.troubleshooter, beside the log id.</summary>
public sealed class TroubleshooterTests
{
    [Fact]
    public async Task A_tenant_token_on_a_user_token_endpoint_keeps_the_platforms_answer_and_says_which_token_it_needs()
    {
        // The seed page's own Node example sends its tenant token here.
        await using var server = new TestServer();
        var tenant = await server.TenantTokenAsync();
        var refused = await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"email_account_example@outlook.com","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""",
            tenant), 400, 99991663);
        Assert.Equal("Invalid access token for authorization. Please make a request with token attached.", refused["msg"]!.GetValue<string>());
        var error = refused["error"]!.AsObject();
        Assert.Equal(["log_id", "troubleshooter"], error.Select(p => p.Key).ToArray());
        var hint = error["troubleshooter"]!.GetValue<string>();
        Assert.StartsWith("排查建议查看(Troubleshooting suggestions): ", hint);
        Assert.Contains("takes a user_access_token", hint);
        Assert.DoesNotContain('\n', hint);

        // A refusal that explains itself carries none.
        var missing = await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Get,
            "/open-apis/calendar/v4/exchange_bindings/x", null, "u-unknown"), 400, 99991668);
        Assert.Null(missing["error"]!["troubleshooter"]);
    }
}
