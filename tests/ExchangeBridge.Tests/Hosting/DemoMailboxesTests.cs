using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ExchangeBridge.Server.Hosting;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Hosting;

/// <summary>
/// A --demo server's simulator can be made to fail by an operator (an outage of a mailbox, a changed password), so a
/// recovery can be watched without a test harness.
/// </summary>
public sealed class DemoMailboxesTests() : ServerTests(new TestServer(demo: true))
{

    [Fact]
    public async Task An_operator_stages_an_outage_of_a_mailbox_and_ends_it()
    {
        await JsonAssert.SuccessAsync(await StageAsync($"mailboxes/{Bootstrapper.DemoExchangeAccount}/fault",
            new JsonObject { ["fault"] = "internal_server_error", ["requests"] = 2 }));
        for (var i = 0; i < 2; i++)
        {
            var refused = await GetCalendarAsync(Bootstrapper.DemoAdminPassword);
            Assert.Equal(HttpStatusCode.InternalServerError, refused.StatusCode);
            Assert.Contains("ErrorInternalServerTransientError", await refused.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.OK, (await GetCalendarAsync(Bootstrapper.DemoAdminPassword)).StatusCode);

        await JsonAssert.SuccessAsync(await StageAsync($"mailboxes/{Bootstrapper.DemoExchangeAccount}/fault", new JsonObject { ["fault"] = "server_busy" }));
        Assert.Contains("ErrorServerBusy", await (await GetCalendarAsync(Bootstrapper.DemoAdminPassword)).Content.ReadAsStringAsync());
        await JsonAssert.SuccessAsync(await StageAsync($"mailboxes/{Bootstrapper.DemoExchangeAccount}/fault", new JsonObject { ["fault"] = "none" }));
        Assert.Equal(HttpStatusCode.OK, (await GetCalendarAsync(Bootstrapper.DemoAdminPassword)).StatusCode);

        await JsonAssert.ErrorAsync(await StageAsync($"mailboxes/{Bootstrapper.DemoExchangeAccount}/fault", new JsonObject { ["fault"] = "flood" }), 400, 40000);
    }

    [Fact]
    public async Task An_operator_changes_the_demo_admin_accounts_password_and_the_old_one_is_refused()
    {
        await JsonAssert.SuccessAsync(await StageAsync($"admins/{Bootstrapper.DemoAdminAccount}/password", new JsonObject { ["password"] = "rotated" }));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetCalendarAsync(Bootstrapper.DemoAdminPassword)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetCalendarAsync("rotated")).StatusCode);

        await JsonAssert.ErrorAsync(await StageAsync("admins/nobody@example.com/password", new JsonObject { ["password"] = "x" }), 404, 40400);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, $"/admin/v1/demo/simulator/admins/{Bootstrapper.DemoAdminAccount}/password",
            """{"password":"x"}"""), 401, 40100);
    }

    private Task<HttpResponseMessage> StageAsync(string path, JsonObject body) =>
        Server.SendAsync(HttpMethod.Post, $"/admin/v1/demo/simulator/{path}", body.ToJsonString(), Server.Bootstrap.OperatorKey);

    /// <summary>GetFolder of the demo mailbox's calendar, impersonating it, as the demo admin account with <paramref name="password"/>.</summary>
    private Task<HttpResponseMessage> GetCalendarAsync(string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, DemoMailboxes.SimulatorPath)
        {
            Content = new StringContent(
                $"""
                <?xml version="1.0" encoding="utf-8"?>
                <soap:Envelope xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
                    xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
                  <soap:Header>
                    <t:RequestServerVersion Version="Exchange2013_SP1" />
                    <t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{Bootstrapper.DemoExchangeAccount}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>
                  </soap:Header>
                  <soap:Body>
                    <m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>
                      <m:FolderIds><t:DistinguishedFolderId Id="calendar" /></m:FolderIds></m:GetFolder>
                  </soap:Body>
                </soap:Envelope>
                """, Encoding.UTF8, "text/xml"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Bootstrapper.DemoAdminAccount}:{password}")));
        return Server.Http.SendAsync(request);
    }
}
