using System.Text;
using System.Text.Json;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Bindings;

public sealed class ExchangeBindingsApiTests() : ServerTests(new TestServer())
{
    private const string Path = "/open-apis/calendar/v4/exchange_bindings";
    private const string DemoAdmin = "email_admin_example@outlook.com";
    private const string DemoAccount = "email_account_example@outlook.com";
    private const string DemoOpenId = "ou_xxxxxxxxxxxxxxxxxx";
    private const string DocumentedId = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";

    private string _admin = null!;

    public override async Task InitializeAsync()
    {
        _admin = await Server.AdminUserTokenAsync();
    }

    private Task<HttpResponseMessage> Create(string body, string query = "?user_id_type=open_id", string? token = null) =>
        Server.SendAsync(HttpMethod.Post, Path + query, body, token ?? _admin);

    private static string Body(string admin, string account, string userId) =>
        JsonSerializer.Serialize(new { admin_account = admin, exchange_account = account, user_id = userId });

    [Fact]
    public async Task Create_answers_the_documented_example()
    {
        var response = await Create("""
            {
                "admin_account": "email_admin_example@outlook.com",
                "exchange_account": "email_account_example@outlook.com",
                "user_id": "ou_xxxxxxxxxxxxxxxxxx"
            }
            """);
        var body = await JsonAssert.SuccessAsync(response);
        Assert.Equal("success", body["msg"]!.GetValue<string>());
        var data = body["data"]!;
        Assert.Equal(DemoAdmin, data["admin_account"]!.GetValue<string>());
        Assert.Equal(DemoAccount, data["exchange_account"]!.GetValue<string>());
        Assert.Equal(DemoOpenId, data["user_id"]!.GetValue<string>());
        Assert.Equal("doing", data["status"]!.GetValue<string>());
        Assert.Equal(DocumentedId, data["exchange_binding_id"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(response.Headers.GetValues("X-Tt-Logid").Single()));
    }

    [Fact]
    public async Task Answers_write_text_as_the_platform_does_with_a_base64_plus_unescaped()
    {
        // base64("email_admin_example@outlook.com ~aa?@outlook.com") holds both '+' and '/'.
        const string id = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSB+YWE/QG91dGxvb2suY29t";
        var created = await Create(Body(DemoAdmin, "~aa?@outlook.com", DemoOpenId));
        var text = await created.Content.ReadAsStringAsync();

        Assert.Contains($"\"exchange_binding_id\":\"{id}\"", text);
        Assert.DoesNotContain("\\u", text);
    }

    [Fact]
    public async Task Get_and_delete_follow_create_and_unbinding_frees_the_account()
    {
        await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, DemoAccount, DemoOpenId)));

        var got = await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, _admin));
        Assert.Equal(DemoOpenId, got["data"]!["user_id"]!.GetValue<string>());
        Assert.Equal("doing", got["data"]!["status"]!.GetValue<string>());

        var deleted = await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Delete, $"{Path}/{DocumentedId}", null, _admin));
        Assert.Equal("{}", deleted["data"]!.ToJsonString());
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, _admin), 404, 195103);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Delete, $"{Path}/{DocumentedId}", null, _admin), 404, 195103);

        var other = await Server.CreateUserAsync("other_employee");
        var rebound = await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, DemoAccount, TestServer.OpenIdOf(other, Server.Bootstrap.AppId))));
        Assert.Equal(DocumentedId, rebound["data"]!["exchange_binding_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Binding_the_same_triple_again_answers_the_existing_binding()
    {
        var first = await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, DemoAccount, DemoOpenId)));
        var second = await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, DemoAccount.ToUpperInvariant(), DemoOpenId)));
        Assert.Equal(first["data"]!["exchange_binding_id"]!.GetValue<string>(), second["data"]!["exchange_binding_id"]!.GetValue<string>());
        Assert.Equal(DemoAccount, second["data"]!["exchange_account"]!.GetValue<string>());
    }

    [Fact]
    public async Task Racing_creates_of_one_account_end_in_one_binding()
    {
        var racers = Enumerable.Range(0, 24).Select(_ => Create(Body(DemoAdmin, DemoAccount, DemoOpenId)));
        var answers = await Task.WhenAll(racers);
        foreach (var answer in answers)
            Assert.Equal(DocumentedId, (await JsonAssert.SuccessAsync(answer))["data"]!["exchange_binding_id"]!.GetValue<string>());

        var database = (ExchangeBridge.Server.Storage.IDatabase)Server.Services.GetService(typeof(ExchangeBridge.Server.Storage.IDatabase))!;
        await using var connection = await database.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT (SELECT COUNT(*) FROM exchange_bindings) * 1000 + (SELECT COUNT(*) FROM sync_jobs)";
        Assert.Equal(1001L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task An_account_bound_to_another_user_and_a_user_bound_to_another_account_are_refused_clearly()
    {
        await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, DemoAccount, DemoOpenId)));
        var other = await Server.CreateUserAsync("someone_else");
        var otherOpenId = TestServer.OpenIdOf(other, Server.Bootstrap.AppId);

        var taken = await JsonAssert.ErrorAsync(await Create(Body(DemoAdmin, DemoAccount, otherOpenId)), 400, 190002);
        Assert.Contains("already bound to another user", taken["msg"]!.GetValue<string>());

        var busy = await JsonAssert.ErrorAsync(await Create(Body(DemoAdmin, "second@outlook.com", DemoOpenId)), 400, 190002);
        Assert.Contains("user_id is already bound", busy["msg"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("user_id", "demo_employee")]
    [InlineData("union_id", null)]
    [InlineData("open_id", DemoOpenId)]
    public async Task User_ids_are_read_and_answered_in_the_type_asked_for(string idType, string? expected)
    {
        var demoUser = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get,
            $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/users/demo_employee", null, Server.Bootstrap.OperatorKey));
        var id = expected ?? demoUser["data"]!["union_id"]!.GetValue<string>();

        var created = await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, DemoAccount, id), $"?user_id_type={idType}"));
        Assert.Equal(id, created["data"]!["user_id"]!.GetValue<string>());

        foreach (var (type, value) in new[] { ("user_id", "demo_employee"), ("open_id", DemoOpenId),
                     ("union_id", demoUser["data"]!["union_id"]!.GetValue<string>()) })
        {
            var got = await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}?user_id_type={type}", null, _admin));
            Assert.Equal(value, got["data"]!["user_id"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Default_user_id_type_is_open_id()
    {
        var created = await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, DemoAccount, DemoOpenId), query: ""));
        Assert.Equal(DemoOpenId, created["data"]!["user_id"]!.GetValue<string>());
        await JsonAssert.ErrorAsync(await Create(Body(DemoAdmin, "x@outlook.com", "demo_employee"), query: ""), 404, 195100);
    }

    public static TheoryData<string, string> MalformedBodies => new()
    {
        { "not json", "application/json" },
        { "{\"admin_account\": ", "application/json" },
        { "[]", "application/json" },
        { "\"text\"", "application/json" },
        { "", "application/json" },
        { "{}", "application/json" },
        { $$"""{"admin_account": 42, "exchange_account": "{{DemoAccount}}", "user_id": "{{DemoOpenId}}"}""", "application/json" },
        { $$"""{"admin_account": "{{DemoAdmin}}", "exchange_account": ["a@b.com"], "user_id": "{{DemoOpenId}}"}""", "application/json" },
        { $$"""{"admin_account": "{{DemoAdmin}}", "exchange_account": "{{DemoAccount}}", "user_id": 7}""", "application/json" },
        { $$"""{"admin_account": "{{DemoAdmin}}", "exchange_account": "{{DemoAccount}}"}""", "application/json" },
        { $$"""{"admin_account": "", "exchange_account": "{{DemoAccount}}", "user_id": "{{DemoOpenId}}"}""", "application/json" },
        { $$"""{"admin_account": "{{DemoAdmin}}", "exchange_account": "not-an-email", "user_id": "{{DemoOpenId}}"}""", "application/json" },
        { $$"""{"admin_account": "{{DemoAdmin}}", "exchange_account": "a b@c.com", "user_id": "{{DemoOpenId}}"}""", "application/json" },
        { $$"""{"admin_account": "{{DemoAdmin}}", "exchange_account": "{{new string('a', 490)}}@outlook.com", "user_id": "{{DemoOpenId}}"}""", "application/json" },
        { $$"""{"admin_account": "{{DemoAdmin}}", "admin_account": "{{DemoAdmin}}", "exchange_account": "{{DemoAccount}}", "user_id": "{{DemoOpenId}}"}""", "application/json" },
        { $$"""{"admin_account": "{{DemoAdmin}}", "exchange_account": "\ud800@x.com", "user_id": "{{DemoOpenId}}"}""", "application/json" },
        { $$"""{"admin_account": "{{DemoAdmin}}", "exchange_account": "{{DemoAccount}}", "user_id": "{{DemoOpenId}}"}""", "text/plain" },
        { $$"""{"admin_account": "{{DemoAdmin}}", "exchange_account": "{{DemoAccount}}", "user_id": "{{DemoOpenId}}"}""", "application/x-www-form-urlencoded" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Malformed_bodies_are_190002(string body, string contentType)
    {
        var response = await Server.SendAsync(HttpMethod.Post, Path, body, _admin, contentType);
        await JsonAssert.ErrorAsync(response, 400, 190002);
    }

    [Fact]
    public async Task An_address_of_exactly_500_characters_is_accepted_and_501_is_not()
    {
        var longest = new string('a', 500 - "@outlook.com".Length) + "@outlook.com";
        await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, longest, DemoOpenId)));
        var tooLong = "b" + longest;
        var refused = await JsonAssert.ErrorAsync(await Create(Body(DemoAdmin, tooLong, "x")), 400, 190002);
        Assert.Contains("500", refused["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_190002_not_a_crash()
    {
        var huge = "{\"admin_account\": \"" + new string('a', 2 * 1024 * 1024) + "\"}";
        await JsonAssert.ErrorAsync(await Create(huge), 400, 190002);
    }

    [Theory]
    [InlineData("?user_id_type=email")]
    [InlineData("?user_id_type=")]
    [InlineData("?user_id_type=open_id&user_id_type=user_id")]
    public async Task A_bad_user_id_type_is_190002(string query)
    {
        var answer = await Create(Body(DemoAdmin, DemoAccount, DemoOpenId), query);
        if (query == "?user_id_type=") await JsonAssert.SuccessAsync(answer);
        else await JsonAssert.ErrorAsync(answer, 400, 190002);
    }

    [Fact]
    public async Task The_target_user_must_be_in_the_tenant_and_not_resigned()
    {
        await JsonAssert.ErrorAsync(await Create(Body(DemoAdmin, DemoAccount, "ou_doesnotexist")), 404, 195100);

        // Another app's open_id for the same user names nobody for this app.
        var otherApp = await Server.PostJsonAsync($"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/apps", new { name = "other" },
            Server.Bootstrap.OperatorKey);
        var demo = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get,
            $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/users/demo_employee", null, Server.Bootstrap.OperatorKey));
        var foreignOpenId = TestServer.OpenIdOf(demo["data"]!.AsObject(), otherApp["data"]!["app_id"]!.GetValue<string>());
        await JsonAssert.ErrorAsync(await Create(Body(DemoAdmin, DemoAccount, foreignOpenId)), 404, 195100);

        await Server.SendAsync(HttpMethod.Patch, $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/users/demo_employee",
            """{"resigned": true}""", Server.Bootstrap.OperatorKey);
        await JsonAssert.ErrorAsync(await Create(Body(DemoAdmin, DemoAccount, DemoOpenId)), 404, 195100);
    }

    [Fact]
    public async Task Only_a_super_administrator_who_has_not_resigned_may_bind()
    {
        var employee = await Server.CreateUserAsync("plain_employee");
        var (employeeToken, _) = await Server.UserTokensAsync(TestServer.OpenIdOf(employee, Server.Bootstrap.AppId));
        await JsonAssert.ErrorAsync(await Create(Body(DemoAdmin, DemoAccount, DemoOpenId), token: employeeToken), 403, 195101);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, employeeToken), 403, 195101);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Delete, $"{Path}/{DocumentedId}", null, employeeToken), 403, 195101);

        await Server.SendAsync(HttpMethod.Patch, $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/users/admin",
            """{"resigned": true}""", Server.Bootstrap.OperatorKey);
        await JsonAssert.ErrorAsync(await Create(Body(DemoAdmin, DemoAccount, DemoOpenId)), 404, 195100);
    }

    [Fact]
    public async Task Admin_account_unknown_foreign_or_unverified_gets_its_documented_code()
    {
        await JsonAssert.ErrorAsync(await Create(Body("nobody@outlook.com", DemoAccount, DemoOpenId)), 404, 195106);

        var operatorKey = Server.Bootstrap.OperatorKey;
        await Server.PostJsonAsync("/admin/v1/tenants", new { name = "Other Co", tenant_key = "othertenant" }, operatorKey);
        var registered = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Put,
            "/admin/v1/tenants/othertenant/exchange_admin_accounts/admin@other.example",
            """{"connector": "ews", "endpoint": "http://127.0.0.1:9/EWS/Exchange.asmx", "password": "p"}""", operatorKey));
        Assert.Equal("failed", registered["data"]!["verification_state"]!.GetValue<string>());
        await JsonAssert.ErrorAsync(await Create(Body("admin@other.example", DemoAccount, DemoOpenId)), 403, 195104);

        var unverified = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Put,
            $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/exchange_admin_accounts/broken@outlook.com",
            """{"connector": "ews", "endpoint": "http://127.0.0.1:9/EWS/Exchange.asmx", "password": "p"}""", operatorKey));
        Assert.Equal("failed", unverified["data"]!["verification_state"]!.GetValue<string>());
        await JsonAssert.ErrorAsync(await Create(Body("broken@outlook.com", DemoAccount, DemoOpenId)), 403, 195105);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("!!!!")]
    [InlineData("bm90IGFuIGlk")] // "not an id"
    [InlineData("ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbQ==")] // one address only
    [InlineData("RU1BSUxfQURNSU5fRVhBTVBMRUBPVVRMT09LLkNPTSBFTUFJTF9BQ0NPVU5UX0VYQU1QTEVAT1VUTE9PSy5DT00=")] // upper-case spelling
    public async Task A_malformed_binding_id_is_195102(string id)
    {
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{id}", null, _admin), 400, 195102);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Delete, $"{Path}/{id}", null, _admin), 400, 195102);
    }

    [Fact]
    public async Task Ids_holding_slash_and_plus_are_found_raw_and_percent_encoded()
    {
        const string account = "xxÿÿ~@outlook.com";
        var id = ExchangeBindingId.Encode(DemoAdmin, account);
        Assert.Contains('/', id);
        Assert.Contains('+', id);
        await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, account, DemoOpenId)));

        foreach (var onTheWire in new[] { id, id.Replace("/", "%2F"), Uri.EscapeDataString(id) })
        {
            var got = await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{onTheWire}", null, _admin));
            Assert.Equal(id, got["data"]!["exchange_binding_id"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Another_tenants_binding_is_not_found_and_reveals_nothing()
    {
        await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, DemoAccount, DemoOpenId)));

        var key = Server.Bootstrap.OperatorKey;
        await Server.PostJsonAsync("/admin/v1/tenants", new { name = "Rival", tenant_key = "rival" }, key);
        var app = await Server.PostJsonAsync("/admin/v1/tenants/rival/apps", new { name = "rival app" }, key);
        var (appId, secret) = (app["data"]!["app_id"]!.GetValue<string>(), app["data"]!["app_secret"]!.GetValue<string>());
        var rivalAdmin = await Server.CreateUserAsync("boss", superAdmin: true, tenantKey: "rival");
        var (rivalToken, _) = await Server.UserTokensAsync(TestServer.OpenIdOf(rivalAdmin, appId), appId, secret);

        var get = await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, rivalToken), 404, 195103);
        Assert.DoesNotContain("email_account", get.ToJsonString());
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Delete, $"{Path}/{DocumentedId}", null, rivalToken), 404, 195103);
        // The rival's super administrator cannot bind through this tenant's admin account either.
        await JsonAssert.ErrorAsync(await Create(Body(DemoAdmin, "x@outlook.com", "boss"), "?user_id_type=user_id", rivalToken), 403, 195104);

        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, _admin));
    }

    [Fact]
    public async Task A_get_or_delete_with_an_empty_json_body_is_served()
    {
        await JsonAssert.SuccessAsync(await Create(Body(DemoAdmin, DemoAccount, DemoOpenId)));
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", "{}", _admin));
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Delete, $"{Path}/{DocumentedId}", "{}", _admin));
    }

    [Theory]
    [InlineData("GET", "/open-apis/nonexistent/v1/foo")]
    [InlineData("GET", "/open-apis/nonexistent/v1/foo.json")]
    // Paths served for other methods: the gateway's 404 too, not the framework's 405.
    [InlineData("PUT", $"{Path}/{DocumentedId}")]
    [InlineData("GET", "/open-apis/auth/v3/tenant_access_token/internal")]
    public async Task Unknown_paths_and_methods_answer_like_the_gateway(string method, string path)
    {
        var response = await Server.SendAsync(new HttpMethod(method), path);
        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal("404 page not found", Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()));
    }
}
