using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Security;

/// <summary>
/// A generated corpus of malformed and hostile requests against a running server process: each gets a documented
/// refusal (never a 5xx), the server stays up, and its memory stays flat from one pass of the corpus to the next.
/// </summary>
public sealed class MalformedRequestTests
{
    private const string Path = "/open-apis/calendar/v4/exchange_bindings";
    private const string Valid = """{"admin_account":"email_admin_example@outlook.com","exchange_account":"email_account_example@outlook.com","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""";

    private sealed record Probe(HttpMethod Method, string Path, string? Body, string? ContentType, bool Authorized, (string, string)? Header = null);

    private static readonly int[] Documented = [190002, 195100, 195102, 195103, 195106, 99991661, 99991663, 99991668, 0];

    [Fact]
    public async Task Ten_thousand_malformed_requests_get_documented_refusals_and_leave_memory_flat()
    {
        var environment = new Dictionary<string, string> { ["ExchangeBridge__RateLimits__Enabled"] = "false", ["ExchangeBridge__Import__Workers"] = "0" };
        await using var server = await ServerProcess.StartAsync(dataDir: null, environment);
        var token = await UserTokenAsync(server);
        var corpus = Corpus(new Random(7)).Take(5200).ToList();

        var failures = new List<string>();
        long? afterFirstPass = null;
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var batch in corpus.Chunk(16))
                await Task.WhenAll(batch.Select(async probe =>
                {
                    var (status, body) = await SendAsync(server, probe, token);
                    var code = TryCode(body);
                    // Kestrel itself refuses what is not HTTP (a NUL in the path, non-ASCII or oversized headers) before any
                    // of our code runs: 400/431 with no body is the protocol layer's documented refusal, and fine.
                    var protocolRefusal = status is 400 or 431 && body.Length == 0;
                    if (!protocolRefusal && (status >= 500 || (status != 404 && code is null) || (code is { } c && !Documented.Contains(c))))
                        lock (failures) failures.Add($"{probe.Method} {probe.Path[..Math.Min(80, probe.Path.Length)]} [{probe.ContentType}] -> {status} {body[..Math.Min(200, body.Length)]}");
                }));
            Assert.False(server.HasExited, "the server died");
            if (pass == 0) afterFirstPass = server.ResidentBytes();
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(20)));
        Assert.True(corpus.Count * 2 >= 10_000);
        var growth = server.ResidentBytes() - afterFirstPass!.Value;
        Assert.True(growth < 64L * 1024 * 1024, $"resident memory grew by {growth / (1024 * 1024)} MiB over a second pass of the same corpus");
    }

    private static int? TryCode(string body)
    {
        try
        {
            return JsonNode.Parse(body)?["code"]?.GetValue<int>();
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static async Task<(int Status, string Body)> SendAsync(ServerProcess server, Probe probe, string token)
    {
        using var request = new HttpRequestMessage(probe.Method, probe.Path);
        if (probe.Body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(probe.Body));
            if (probe.ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", probe.ContentType);
        }
        if (probe.Authorized) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (probe.Header is var (name, value)) request.Headers.TryAddWithoutValidation(name, value);
        try
        {
            using var response = await server.Http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException) when (probe.Header is not null)
        {
            return (431, ""); // Kestrel may close the connection on an oversized header: a refusal, not a crash.
        }
    }

    private static IEnumerable<Probe> Corpus(Random random)
    {
        string[] oddStrings =
        [
            "", " ", "\u0000", "a\u0000b@c.com", "\u202eevil@example.com", "zero\u200bwidth@example.com", "😀@example.com",
            "a@b", "@", "a@@b.com", new string('x', 501), new string('a', 495) + "@b.com", "<script>@x.com", "a@b.com\r\nX: y",
            "' OR 1=1 --@x.com", "../../etc/passwd", "%00@x.com", "ｆｕｌｌ＠ｗｉｄｔｈ．ｃｏｍ", "a@b.com ", "\ud83d@x.com",
        ];
        string[] oddJson = ["1", "true", "null", "[]", "{}", "[1,2]", "{\"a\":{}}", "1e999", "\"\"", "-0", "{\"nested\":" + new string('[', 40) + "1" + new string(']', 40) + "}"];
        string[] contentTypes = ["application/json", "application/json; charset=utf-8", "text/plain", "application/xml", "multipart/form-data",
            "application/json; charset=latin1", "application/x-www-form-urlencoded", "garbage", ""];
        string[] fields = ["admin_account", "exchange_account", "user_id"];

        while (true)
        {
            switch (random.Next(10))
            {
                case 0: // truncated or corrupted JSON
                    var cut = Valid[..random.Next(Valid.Length)];
                    yield return new Probe(HttpMethod.Post, Path, random.Next(2) == 0 ? cut : cut + "\u0001}" , "application/json", true);
                    break;
                case 1: // a field of the wrong type
                    var field = fields[random.Next(fields.Length)];
                    var node = JsonNode.Parse(Valid)!;
                    node[field] = JsonNode.Parse(oddJson[random.Next(oddJson.Length)]);
                    yield return new Probe(HttpMethod.Post, Path, node.ToJsonString(), "application/json", true);
                    break;
                case 2: // odd strings in a field
                    var target = JsonNode.Parse(Valid)!;
                    target[fields[random.Next(fields.Length)]] = oddStrings[random.Next(oddStrings.Length)];
                    yield return new Probe(HttpMethod.Post, Path, target.ToJsonString(), "application/json", true);
                    break;
                case 3: // wrong content types
                    yield return new Probe(HttpMethod.Post, Path, Valid, contentTypes[random.Next(contentTypes.Length)], true);
                    break;
                case 4: // huge and empty bodies
                    yield return new Probe(HttpMethod.Post, Path, random.Next(3) switch
                    {
                        0 => "",
                        1 => "{\"admin_account\":\"" + new string('a', random.Next(70_000, 300_000)) + "\"}",
                        _ => "[" + string.Concat(Enumerable.Repeat("{},", random.Next(1000, 20_000))) + "{}]",
                    }, "application/json", true);
                    break;
                case 5: // bad binding ids
                    var id = random.Next(4) switch
                    {
                        0 => Convert.ToBase64String(Encoding.UTF8.GetBytes(oddStrings[random.Next(oddStrings.Length)])),
                        1 => new string('A', random.Next(1, 6000)),
                        2 => Uri.EscapeDataString(oddStrings[random.Next(oddStrings.Length)]),
                        _ => "..%2F..%2Fadmin%2Fv1%2Ftenants",
                    };
                    yield return new Probe(random.Next(2) == 0 ? HttpMethod.Get : HttpMethod.Delete, $"{Path}/{id}", null, null, true);
                    break;
                case 6: // bad query values
                    yield return new Probe(HttpMethod.Post, $"{Path}?user_id_type={Uri.EscapeDataString(oddStrings[random.Next(oddStrings.Length)])}x",
                        Valid, "application/json", true);
                    break;
                case 7: // no or bad credentials
                    yield return new Probe(HttpMethod.Post, Path, Valid, "application/json", false,
                        random.Next(2) == 0 ? ("Authorization", "Bearer " + oddStrings[random.Next(oddStrings.Length)].Replace("\r\n", "")) : null);
                    break;
                case 8: // oversized or odd headers
                    yield return new Probe(HttpMethod.Get, $"{Path}/x", null, null, true, ("X-Padding", new string('p', random.Next(8_000, 40_000))));
                    break;
                default: // random bytes
                    var bytes = new byte[random.Next(1, 512)];
                    random.NextBytes(bytes);
                    yield return new Probe(HttpMethod.Post, Path, Encoding.Latin1.GetString(bytes), "application/json", true);
                    break;
            }
        }
    }

    private static async Task<string> UserTokenAsync(ServerProcess server)
    {
        var bootstrap = server.Bootstrap;
        async Task<JsonObject> Post(string path, object body, string? bearer = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            using var response = await server.Http.SendAsync(request);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        }
        var code = await Post("/admin/v1/authorization_codes", new { app_id = bootstrap.AppId, open_id = bootstrap.AdminOpenId }, bootstrap.OperatorKey);
        var tenant = await Post("/open-apis/auth/v3/tenant_access_token/internal", new { app_id = bootstrap.AppId, app_secret = bootstrap.AppSecret });
        var user = await Post("/open-apis/authen/v1/oidc/access_token",
            new { grant_type = "authorization_code", code = code["data"]!["code"]!.GetValue<string>() }, tenant["tenant_access_token"]!.GetValue<string>());
        return user["data"]!["access_token"]!.GetValue<string>();
    }
}
