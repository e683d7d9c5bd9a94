using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Hosting;

public sealed class RequestLogTests
{
    [Fact]
    public async Task A_create_get_and_delete_log_their_route_and_tenant_but_no_address_nor_binding_id()
    {
        const string admin = "email_admin_example@outlook.com", mailbox = "email_account_example@outlook.com";
        var bindingId = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{admin} {mailbox}"));
        var environment = new Dictionary<string, string>
        {
            ["Logging__LogLevel__ExchangeBridge"] = "Information",
            ["ExchangeBridge__TokenCacheSeconds"] = "600",
        };
        string log, tenantKey, createLogId;
        await using (var server = await ServerProcess.StartAsync(Directory.CreateTempSubdirectory("exbridge-requestlog-").FullName, environment))
        {
            var bootstrap = server.Bootstrap;
            tenantKey = bootstrap.TenantKey;
            async Task<HttpResponseMessage> Send(HttpMethod method, string path, object? body = null, string? bearer = null)
            {
                using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
                if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                return await server.Http.SendAsync(request);
            }
            async Task<JsonObject> Json(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

            var tenantToken = (await Json(await Send(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal",
                new { app_id = bootstrap.AppId, app_secret = bootstrap.AppSecret })))["tenant_access_token"]!.GetValue<string>();
            var code = (await Json(await Send(HttpMethod.Post, "/admin/v1/authorization_codes",
                new { app_id = bootstrap.AppId, open_id = bootstrap.AdminOpenId }, bootstrap.OperatorKey)))["data"]!["code"]!.GetValue<string>();
            var user = (await Json(await Send(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
                new { grant_type = "authorization_code", code }, tenantToken)))["data"]!["access_token"]!.GetValue<string>();

            var created = await Send(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings?user_id_type=open_id",
                new { admin_account = admin, exchange_account = mailbox, user_id = "ou_xxxxxxxxxxxxxxxxxx" }, user);
            Assert.Equal(bindingId, (await Json(created))["data"]!["exchange_binding_id"]!.GetValue<string>());
            createLogId = created.Headers.GetValues("X-Tt-Logid").Single();
            // Twice: the second is answered from the read cache, inside the routed endpoint.
            for (var i = 0; i < 2; i++)
                Assert.True((await Send(HttpMethod.Get, $"/open-apis/calendar/v4/exchange_bindings/{bindingId}", bearer: user)).IsSuccessStatusCode);
            Assert.True((await Send(HttpMethod.Delete, $"/open-apis/calendar/v4/exchange_bindings/{bindingId}", bearer: user)).IsSuccessStatusCode);
            await Send(HttpMethod.Get, $"/open-apis/calendar/v4/exchange_bindings/{Uri.EscapeDataString(bindingId)}x", bearer: user);
            // From the first request on: start-up lines name the demo's example accounts, which are the seed page's, not anyone's.
            log = server.Output;
            log = log[log.IndexOf("ExchangeBridge.Requests", StringComparison.Ordinal)..];
        }

        Assert.True(log.Contains($"log_id={createLogId} POST /open-apis/calendar/v4/exchange_bindings tenant={tenantKey} -> 200",
            StringComparison.Ordinal), log);
        Assert.True(CountOf(log, $"/open-apis/calendar/v4/exchange_bindings/{{**exchange_binding_id}} tenant={tenantKey} -> 200") == 3, log);
        foreach (var personal in new[] { admin, mailbox, bindingId, bindingId.TrimEnd('='), Uri.EscapeDataString(bindingId), "ou_xxxxxxxxxxxxxxxxxx" })
            Assert.False(log.Contains(personal, StringComparison.Ordinal), $"the log holds {personal}:\n{log}");
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
