using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Security;

[Trait("Database", "Independent")]
public sealed class SecretsInLogsTests
{
    [Fact]
    public void A_presented_app_prints_neither_secret()
    {
        var presented = new ExchangeBridge.Server.Identity.PresentedApp(
            new ExchangeBridge.Server.Storage.AppRecord { AppId = "cli_a" }, "presented-s3cret", "stored-s3cret"u8.ToArray());
        var printed = presented.ToString() ?? "";
        Assert.DoesNotContain("s3cret", printed);
    }

    [Fact]
    public async Task No_secret_or_token_reaches_the_log_even_at_debug_level()
    {
        var environment = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Debug",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Debug",
            ["Logging__LogLevel__ExchangeBridge.Server.Identity.BearerTokenHandler"] = "Debug",
        };
        string log, appSecret, operatorKey, userToken, refreshToken, tenantToken, code;
        const string exchangePassword = "Exch4nge-Adm1n-Pa55word";
        await using (var server = await ServerProcess.StartAsync(Directory.CreateTempSubdirectory("exbridge-logs-").FullName, environment))
        {
            var bootstrap = server.Bootstrap;
            (appSecret, operatorKey) = (bootstrap.AppSecret, bootstrap.OperatorKey);
            async Task<JsonObject> Post(string path, object body, string? bearer = null)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
                if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                using var response = await server.Http.SendAsync(request);
                return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
            }

            await Post("/open-apis/auth/v3/tenant_access_token/internal", new { app_id = bootstrap.AppId, app_secret = "wrong-" + appSecret });
            tenantToken = (await Post("/open-apis/auth/v3/tenant_access_token/internal", new { app_id = bootstrap.AppId, app_secret = appSecret }))
                ["tenant_access_token"]!.GetValue<string>();
            code = (await Post("/admin/v1/authorization_codes", new { app_id = bootstrap.AppId, open_id = bootstrap.AdminOpenId }, operatorKey))
                ["data"]!["code"]!.GetValue<string>();
            var user = (await Post("/open-apis/authen/v1/oidc/access_token", new { grant_type = "authorization_code", code }, tenantToken))["data"]!;
            (userToken, refreshToken) = (user["access_token"]!.GetValue<string>(), user["refresh_token"]!.GetValue<string>());
            using (var put = new HttpRequestMessage(HttpMethod.Put, $"/admin/v1/tenants/{bootstrap.TenantKey}/exchange_admin_accounts/svc@contoso.com")
                   {
                       Content = JsonContent.Create(new { connector = "ews", endpoint = "http://127.0.0.1:9/EWS/Exchange.asmx", password = exchangePassword }),
                   })
            {
                put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorKey);
                (await server.Http.SendAsync(put)).Dispose();
            }
            await Post("/open-apis/calendar/v4/exchange_bindings",
                new { admin_account = "svc@contoso.com", exchange_account = "a@contoso.com", user_id = "ou_xxxxxxxxxxxxxxxxxx" }, userToken);
            await Post("/open-apis/calendar/v4/exchange_bindings", new { admin_account = "x" }, "u-forged" + userToken);
            log = server.Output;
        }

        Assert.Contains("log_id=", log); // the log is there and was read
        foreach (var (name, secret) in new[]
                 {
                     ("app secret", appSecret), ("operator key", operatorKey), ("user token", userToken), ("refresh token", refreshToken),
                     ("tenant token", tenantToken), ("authorization code", code), ("Exchange password", exchangePassword),
                 })
            Assert.False(log.Contains(secret, StringComparison.Ordinal), $"the {name} appears in the log");
    }
}
