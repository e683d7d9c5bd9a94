using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Hosting;

/// <summary>
/// Malformed requests on every route, as a hostile or broken client sends them: junk and huge JSON, wrong types, junk and
/// repeated query values, junk path ids, wrong tokens, odd content types and methods. None may fault the server (a 5xx),
/// and every answer of the Open API and the operator API other than the gateway's 404 and 405 comes in the platform's
/// envelope. The requests are drawn from a fixed seed, so a failure names a request that fails again.
/// </summary>
public sealed class HostileRequestsTests() : ServerTests(new TestServer())
{
    private const string BindingId = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";
    private const string CalendarId = "feishu.cn_b2230f9b73ff9c6e951d599a@group.calendar.feishu.cn";
    private const string EventId = "11c36fc4-847b-4dca-80f6-790f79e6306d_0";

    private static readonly string[] Weird =
    [
        "", " ", "-1", "0", "1", "999999999999999999999999", "1e309", "NaN", "abc", "null", "true", "[]", "{}", "é", "\u202e",
        "😀😀", new string('a', 5000), "../..", "%2F", "/", "\\", "'", "\"", "<script>", "1.5", "-0", "+1", "0x10", "2026-01-01",
        "1700000000", "17000000000000", "-9223372036854775808", "9223372036854775807", "open_id", "user_id", "union_id",
        "AAAA", "eyJ9", "!!!", "==========",
    ];

    private static readonly string[] QueryNames =
    [
        "page_size", "page_token", "sync_token", "start_time", "end_time", "anchor_time", "user_id_type",
        "need_resource_customization", "need_attendee", "max_attendee_num", "user_id", "tenant_key", "status", "app_id",
    ];

    private static readonly string[] Fields =
    [
        "app_id", "app_secret", "grant_type", "code", "refresh_token", "admin_account", "exchange_account", "user_id", "query",
        "filter", "time_min", "time_max", "user_ids", "room_id", "include_external_calendar", "only_busy", "name", "tenant_key",
        "password", "is_super_admin", "bot_enabled", "open_id", "redirect_uri", "url", "encrypt_key", "verification_token",
        "start_time", "end_time", "timestamp", "client_id", "client_secret", "connector", "endpoint",
    ];

    private static readonly string[] RawBodies =
    [
        "{", "[", "null", "1", "\"x\"", "{\"a\":}", "{\"a\":1,\"a\":2}", "\uFEFF{}", new string('[', 5000),
        string.Concat(Enumerable.Repeat("{\"a\":", 70)) + "1" + new string('}', 70),
    ];

    /// <summary>Each route with the token its callers hold: tenant, user (the super administrator), operator, or none.</summary>
    private static readonly (string Method, string Path, string? Token)[] Routes =
    [
        ("POST", "/open-apis/auth/v3/tenant_access_token/internal", null),
        ("POST", "/open-apis/auth/v3/app_access_token/internal", null),
        ("POST", "/open-apis/authen/v1/oidc/access_token", "tenant"),
        ("POST", "/open-apis/authen/v1/oidc/refresh_access_token", "tenant"),
        ("POST", "/open-apis/authen/v2/oauth/token", null),
        ("POST", "/open-apis/calendar/v4/exchange_bindings", "user"),
        ("GET", "/open-apis/calendar/v4/exchange_bindings/{binding}", "user"),
        ("DELETE", "/open-apis/calendar/v4/exchange_bindings/{junk}", "user"),
        ("GET", "/open-apis/calendar/v4/calendars", "user"),
        ("GET", "/open-apis/calendar/v4/calendars/{calendar}", "user"),
        ("GET", "/open-apis/calendar/v4/calendars/{calendar}/events", "user"),
        ("GET", "/open-apis/calendar/v4/calendars/{calendar}/events/{event}", "user"),
        ("GET", "/open-apis/calendar/v4/calendars/{calendar}/events/{event}/attendees", "user"),
        ("GET", "/open-apis/calendar/v4/calendars/{calendar}/events/instance_view", "user"),
        ("GET", "/open-apis/calendar/v4/calendars/{calendar}/events/{event}/instances", "user"),
        ("POST", "/open-apis/calendar/v4/calendars/{calendar}/events/search", "user"),
        ("POST", "/open-apis/calendar/v4/freebusy/list", "user"),
        ("POST", "/open-apis/calendar/v4/freebusy/batch", "tenant"),
        ("POST", "/open-apis/calendar/v4/calendars/subscription", "user"),
        ("POST", "/open-apis/calendar/v4/calendars/unsubscription", "user"),
        ("POST", "/open-apis/calendar/v4/calendars/{calendar}/events/subscription", "user"),
        ("POST", "/open-apis/calendar/v4/calendars/{calendar}/events/unsubscription", "user"),
        ("POST", "/admin/v1/tenants", "operator"),
        ("GET", "/admin/v1/tenants", "operator"),
        ("POST", "/admin/v1/tenants/{tenant}/apps", "operator"),
        ("PATCH", "/admin/v1/tenants/{tenant}/apps/{app}", "operator"),
        ("POST", "/admin/v1/tenants/{tenant}/users", "operator"),
        ("GET", "/admin/v1/tenants/{tenant}/users/{junk}", "operator"),
        ("PATCH", "/admin/v1/tenants/{tenant}/users/{junk}", "operator"),
        ("PUT", "/admin/v1/tenants/{tenant}/exchange_admin_accounts/{junk}", "operator"),
        ("GET", "/admin/v1/tenants/{tenant}/exchange_admin_accounts/{junk}", "operator"),
        ("POST", "/admin/v1/tenants/{tenant}/exchange_admin_accounts/{junk}/verify", "operator"),
        ("GET", "/admin/v1/tenants/{tenant}/exchange_bindings", "operator"),
        ("POST", "/admin/v1/tenants/{tenant}/exchange_bindings/retry", "operator"),
        ("POST", "/admin/v1/authorization_codes", "operator"),
        ("PUT", "/admin/v1/apps/{app}/event_settings", "operator"),
        ("GET", "/admin/v1/apps/{app}/event_settings", "operator"),
        ("GET", "/admin/v1/event_deliveries", "operator"),
    ];

    [Fact]
    public async Task Two_thousand_malformed_requests_on_every_route_fault_nothing_and_are_answered_in_the_envelope()
    {
        var tokens = new Dictionary<string, string>
        {
            ["tenant"] = await Server.TenantTokenAsync(),
            ["user"] = await Server.AdminUserTokenAsync(),
            ["operator"] = Server.Bootstrap.OperatorKey,
        };
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"email_account_example@outlook.com","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""",
            tokens["user"]));
        var random = new Random(20261207);
        var problems = new List<string>();

        for (var i = 0; i < 2000; i++)
        {
            var (method, template, token) = Routes[random.Next(Routes.Length)];
            if (random.NextDouble() < 0.05) method = new[] { "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" }[random.Next(6)];
            var path = FillPath(template, random);
            var query = Enumerable.Range(0, random.Next(5))
                .Select(_ => $"{QueryNames[random.Next(QueryNames.Length)]}={Uri.EscapeDataString(Pick(random))}").ToList();
            if (query.Count > 0) path += "?" + string.Join('&', query);

            var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method is "POST" or "PUT" or "PATCH")
                request.Content = new ByteArrayContent(Body(random))
                {
                    Headers = { ContentType = MediaTypeHeaderValue.Parse(new[]
                        { "application/json", "application/json; charset=utf-8", "text/plain", "multipart/form-data" }[random.Next(4)]) },
                };
            if (token is not null && random.NextDouble() < 0.9) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {tokens[token]}");
            else if (random.NextDouble() < 0.5)
                request.Headers.TryAddWithoutValidation("Authorization", new[] { "Bearer ", "Bearer x", "Basic abc", $"Bearer {tokens["tenant"]}",
                    $"Bearer {tokens["user"]}", $"Bearer {tokens["operator"]}", $"bearer {tokens["user"]}" }[random.Next(7)]);

            using var response = await Server.Http.SendAsync(request);
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync();
            if (status >= 500) problems.Add($"{status} for {method} {path}: {body}");
            else if (status is not (404 or 405) && !IsEnvelope(body)) problems.Add($"{status} without the envelope for {method} {path}: {body}");
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems.Take(20)));
    }

    private static string Pick(Random random) => Weird[random.Next(Weird.Length)];

    private string FillPath(string template, Random random)
    {
        string Segment(string usual) => random.NextDouble() < 0.3 ? Uri.EscapeDataString(Pick(random)) : usual;
        var junk = Pick(random);
        return template.Replace("{binding}", Segment(BindingId)).Replace("{calendar}", Segment(CalendarId))
            .Replace("{event}", Segment(EventId)).Replace("{tenant}", Segment(Server.Bootstrap.TenantKey))
            .Replace("{app}", Segment(Server.Bootstrap.AppId)).Replace("{junk}", Uri.EscapeDataString(junk.Length == 0 ? "x" : junk));
    }

    private static byte[] Body(Random random)
    {
        var kind = random.NextDouble();
        if (kind < 0.1) return [];
        if (kind < 0.2) return Encoding.UTF8.GetBytes(RawBodies[random.Next(RawBodies.Length)]);
        var body = new JsonObject();
        for (var n = random.Next(7); n > 0; n--) body[Fields[random.Next(Fields.Length)]] = Value(random, 0);
        JsonNode root = random.NextDouble() < 0.3 ? new JsonArray(body) : body;
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static JsonNode? Value(Random random, int depth)
    {
        var kind = random.NextDouble();
        if (kind < 0.3) return Pick(random);
        if (kind < 0.4) return new JsonNode?[] { 0, -1, 1.5, 1e30, true, false, null, long.MinValue, ulong.MaxValue }[random.Next(9)];
        if (kind < 0.5 && depth < 3) return new JsonArray(Enumerable.Range(0, random.Next(4)).Select(_ => Value(random, depth + 1)).ToArray());
        if (kind < 0.6 && depth < 3)
        {
            var inner = new JsonObject();
            for (var n = random.Next(4); n > 0; n--) inner[Fields[random.Next(Fields.Length)]] = Value(random, depth + 1);
            return inner;
        }
        if (kind < 0.7) return new JsonObject { ["timestamp"] = Pick(random), ["date"] = Pick(random) };
        return kind < 0.8 ? "x@contoso.com" : Pick(random);
    }

    private static bool IsEnvelope(string body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject answer && answer.ContainsKey("code");
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
