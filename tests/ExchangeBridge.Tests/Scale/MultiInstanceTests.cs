using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Scale;

/// <summary>Two server processes on one PostgreSQL, as behind a load balancer.</summary>
public sealed class MultiInstanceTests
{
    private const string DocumentedId = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";

    private static async Task<(ServerProcess A, ServerProcess B, string Database)> StartPairAsync(Dictionary<string, string> settings)
    {
        var database = TestDatabases.CreatePostgresDatabase()!;
        var environment = new Dictionary<string, string>(settings)
        {
            ["ExchangeBridge__PostgresConnectionString"] = database,
            // Every instance must decrypt what the others encrypted.
            ["ExchangeBridge__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["ExchangeBridge__Import__Workers"] = "0",
        };
        var a = await ServerProcess.StartAsync(Directory.CreateTempSubdirectory("exbridge-a-").FullName, environment);
        try
        {
            var b = await ServerProcess.StartAsync(Directory.CreateTempSubdirectory("exbridge-b-").FullName, environment);
            return (a, b, database);
        }
        catch
        {
            await a.DisposeAsync(); // no orphan process when the second instance cannot start
            throw;
        }
    }

    private static async Task<string> AdminUserTokenAsync(ServerProcess server, ServerProcess bootstrapped)
    {
        var bootstrap = bootstrapped.Bootstrap;
        var code = await PostAsync(server, "/admin/v1/authorization_codes", new { app_id = bootstrap.AppId, open_id = bootstrap.AdminOpenId }, bootstrap.OperatorKey);
        var tenant = await PostAsync(server, "/open-apis/auth/v3/tenant_access_token/internal", new { app_id = bootstrap.AppId, app_secret = bootstrap.AppSecret });
        var user = await PostAsync(server, "/open-apis/authen/v1/oidc/access_token",
            new { grant_type = "authorization_code", code = code["data"]!["code"]!.GetValue<string>() }, tenant["tenant_access_token"]!.GetValue<string>());
        return user["data"]!["access_token"]!.GetValue<string>();
    }

    private static async Task<JsonObject> PostAsync(ServerProcess server, string path, object body, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await server.Http.SendAsync(request);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    [PostgresFact]
    public async Task Two_hundred_racing_creates_of_one_account_on_two_instances_end_in_one_binding()
    {
        var (a, b, database) = await StartPairAsync(new() { ["ExchangeBridge__RateLimits__Enabled"] = "false" });
        await using (a)
        await using (b)
        {
            var tokenA = await AdminUserTokenAsync(a, a);
            var tokenB = await AdminUserTokenAsync(b, a);
            var body = new { admin_account = "email_admin_example@outlook.com", exchange_account = "email_account_example@outlook.com", user_id = "ou_xxxxxxxxxxxxxxxxxx" };
            var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => i % 2 == 0
                ? PostAsync(a, "/open-apis/calendar/v4/exchange_bindings", body, tokenA)
                : PostAsync(b, "/open-apis/calendar/v4/exchange_bindings", body, tokenB)));

            foreach (var answer in answers)
            {
                Assert.True(answer["code"]!.GetValue<int>() == 0, answer.ToJsonString());
                Assert.Equal(DocumentedId, answer["data"]!["exchange_binding_id"]!.GetValue<string>());
            }
            await using var connection = new Npgsql.NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var count = new Npgsql.NpgsqlCommand(
                "SELECT (SELECT COUNT(*) FROM exchange_bindings) * 1000 + (SELECT COUNT(*) FROM sync_jobs)", connection);
            Assert.Equal(1001L, (long)(await count.ExecuteScalarAsync())!);
        }
        TestDatabases.DropPostgresDatabase(database);
    }

    [PostgresAndRedisFact]
    public async Task A_per_app_limit_holds_across_both_instances_through_redis()
    {
        const int limit = 20;
        const int seconds = 4;
        var (a, b, database) = await StartPairAsync(new()
        {
            ["ExchangeBridge__RateLimits__RedisConnectionString"] = PostgresAndRedisFactAttribute.Redis!,
            ["ExchangeBridge__RateLimits__AppPerSecond"] = limit.ToString(),
            ["ExchangeBridge__RateLimits__MethodPerSecond"] = "100000",
            ["ExchangeBridge__RateLimits__MethodPerMinute"] = "100000",
        });
        await using (a)
        await using (b)
        {
            var token = await AdminUserTokenAsync(a, a);
            async Task<HttpResponseMessage> Get(ServerProcess server)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/open-apis/calendar/v4/exchange_bindings/{DocumentedId}");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                return await server.Http.SendAsync(request);
            }
            // Warm both instances (JIT, pools, Redis connection) so the measured requests arrive when they are sent.
            for (var i = 0; i < 5; i++) await Task.WhenAll(Get(a), Get(b));

            // Offer 3N per second, spread over both instances, inside whole one-second windows of the shared counter
            // (keeping 100 ms clear of each end, so no request lands in a window outside the measurement).
            var accepted = 0;
            var refusedWith190005 = 0;
            var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1).AddMilliseconds(100);
            while (DateTimeOffset.UtcNow < start) await Task.Yield();
            var clock = Stopwatch.StartNew();
            var sends = new ConcurrentBag<Task>();
            var span = seconds - 0.2;
            for (var i = 0; i < 3 * limit * seconds; i++)
            {
                var due = TimeSpan.FromSeconds(span * i / (3 * limit * seconds));
                if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
                var server = i % 2 == 0 ? a : b;
                sends.Add(Task.Run(async () =>
                {
                    using var response = await Get(server);
                    var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                    if ((int)response.StatusCode == 404) Interlocked.Increment(ref accepted);
                    else if (json["code"]!.GetValue<int>() == 190005) Interlocked.Increment(ref refusedWith190005);
                }));
            }
            await Task.WhenAll(sends);
            var rate = accepted / (double)seconds;
            Assert.InRange(rate, limit * 0.95, limit * 1.05);
            Assert.Equal(3 * limit * seconds - accepted, refusedWith190005);
        }
        TestDatabases.DropPostgresDatabase(database);
    }
}
