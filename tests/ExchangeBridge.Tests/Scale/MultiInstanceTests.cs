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
        var a = await ServerProcess.StartAsync(dataDir: null, environment);
        try
        {
            var b = await ServerProcess.StartAsync(dataDir: null, environment);
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

    /// <summary>A user's token for an app, from a code the operator API mints and the app's tenant token redeems.</summary>
    private static async Task<string> UserTokenAsync(ServerProcess server, string appId, string appSecret, string openId)
    {
        var operatorKey = server.Bootstrap.OperatorKey;
        var code = await PostAsync(server, "/admin/v1/authorization_codes", new { app_id = appId, open_id = openId }, operatorKey);
        var tenant = await PostAsync(server, "/open-apis/auth/v3/tenant_access_token/internal", new { app_id = appId, app_secret = appSecret });
        var user = await PostAsync(server, "/open-apis/authen/v1/oidc/access_token",
            new { grant_type = "authorization_code", code = code["data"]!["code"]!.GetValue<string>() }, tenant["tenant_access_token"]!.GetValue<string>());
        Assert.True(user["code"]!.GetValue<int>() == 0, user.ToJsonString());
        return user["data"]!["access_token"]!.GetValue<string>();
    }


    private static async Task<JsonObject> OperatorAsync(ServerProcess server, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.Bootstrap.OperatorKey);
        using var response = await server.Http.SendAsync(request);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.True(answer["code"]!.GetValue<int>() == 0, answer.ToJsonString());
        return answer;
    }

    /// <summary>Until both instances LISTEN: before that their caches keep nothing, and the test would prove nothing.</summary>
    private static async Task WaitUntilBothListenAsync(string database)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var listening = new Npgsql.NpgsqlCommand(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'exchangebridge-listener' AND query LIKE 'LISTEN%'",
            connection);
        var deadline = Stopwatch.StartNew();
        while ((long)(await listening.ExecuteScalarAsync())! < 2)
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "the instances never started listening");
    }

    [PostgresFact]
    public async Task A_deleted_app_a_demoted_administrator_and_a_resigned_user_are_refused_on_the_other_instance_within_a_second()
    {
        // Callers and apps cached for ten minutes on both: only the commit hook crossing instances can refuse in time.
        var (a, b, database) = await StartPairAsync(new()
        {
            ["ExchangeBridge__TokenCacheSeconds"] = "600",
            ["ExchangeBridge__RateLimits__Enabled"] = "false",
        });
        await using (a)
        await using (b)
        {
            await WaitUntilBothListenAsync(database);
            var bootstrap = a.Bootstrap;
            var tenantPath = $"/admin/v1/tenants/{bootstrap.TenantKey}";
            const string calendars = "/open-apis/calendar/v4/calendars";
            const string missingBinding = "/open-apis/calendar/v4/exchange_bindings/" + DocumentedId;

            var doomed = (await OperatorAsync(a, HttpMethod.Post, $"{tenantPath}/apps", new { name = "doomed" }))["data"]!;
            var doomedAppId = doomed["app_id"]!.GetValue<string>();
            var adminOnDoomed = OpenIdOf(await OperatorAsync(a, HttpMethod.Get, $"{tenantPath}/users/{bootstrap.AdminUserId}"), doomedAppId);
            var deletedAppUser = await UserTokenAsync(a, doomedAppId, doomed["app_secret"]!.GetValue<string>(), adminOnDoomed);

            var admin = await UserTokenAsync(a, bootstrap.AppId, bootstrap.AppSecret, bootstrap.AdminOpenId);

            var bob = OpenIdOf(await OperatorAsync(a, HttpMethod.Post, $"{tenantPath}/users", new { user_id = "bob", name = "bob" }), bootstrap.AppId);
            var resigning = await UserTokenAsync(a, bootstrap.AppId, bootstrap.AppSecret, bob);

            var canaryOpenId = OpenIdOf(await OperatorAsync(a, HttpMethod.Post, $"{tenantPath}/users",
                new { user_id = "canary", name = "canary", is_super_admin = true }), bootstrap.AppId);
            var canary = await UserTokenAsync(a, bootstrap.AppId, bootstrap.AppSecret, canaryOpenId);

            // Each caller succeeds once on B, and is kept there. An administrator is let through to hear the binding is missing.
            Assert.Equal((200, 0), await b.StatusAndCodeAsync(HttpMethod.Get, calendars, bearer: deletedAppUser));
            Assert.Equal((404, 195103), await b.StatusAndCodeAsync(HttpMethod.Get, missingBinding, bearer: admin));
            Assert.Equal((200, 0), await b.StatusAndCodeAsync(HttpMethod.Get, calendars, bearer: resigning));
            Assert.Equal((404, 195103), await b.StatusAndCodeAsync(HttpMethod.Get, missingBinding, bearer: canary));

            // A change nobody announces is not seen on B: its answers come from memory.
            await using (var connection = new Npgsql.NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                await using var demote = new Npgsql.NpgsqlCommand("UPDATE users SET is_super_admin = false WHERE user_id = 'canary'", connection);
                Assert.Equal(1, await demote.ExecuteNonQueryAsync());
            }
            Assert.Equal((404, 195103), await b.StatusAndCodeAsync(HttpMethod.Get, missingBinding, bearer: canary));

            await OperatorAsync(a, HttpMethod.Delete, $"{tenantPath}/apps/{doomedAppId}");
            await RefusedOnBWithinASecond(calendars, deletedAppUser, (400, 99991668));

            await OperatorAsync(a, HttpMethod.Patch, $"{tenantPath}/users/{bootstrap.AdminUserId}", new { is_super_admin = false });
            await RefusedOnBWithinASecond(missingBinding, admin, (403, 195101));

            await OperatorAsync(a, HttpMethod.Patch, $"{tenantPath}/users/bob", new { resigned = true });
            await RefusedOnBWithinASecond(missingBinding, resigning, (404, 195100));
            Assert.Equal((400, 99991668), await b.StatusAndCodeAsync(HttpMethod.Get, calendars, bearer: resigning));
        }
        TestDatabases.DropPostgresDatabase(database);

        async Task RefusedOnBWithinASecond(string path, string token, (int Status, int Code) refusal)
        {
            var since = Stopwatch.StartNew();
            var answer = await b.StatusAndCodeAsync(HttpMethod.Get, path, bearer: token);
            while (answer != refusal && since.Elapsed < TimeSpan.FromSeconds(1)) answer = await b.StatusAndCodeAsync(HttpMethod.Get, path, bearer: token);
            Assert.True(answer == refusal, $"{path}: expected {refusal} on the other instance within a second, still {answer} after {since.ElapsedMilliseconds} ms");
        }
    }

    [PostgresFact]
    public async Task An_instance_that_cannot_hear_the_others_answers_from_the_database_and_says_so_in_its_log()
    {
        var (a, b, database) = await StartPairAsync(new()
        {
            ["ExchangeBridge__TokenCacheSeconds"] = "600",
            ["ExchangeBridge__RateLimits__Enabled"] = "false",
            ["Logging__LogLevel__ExchangeBridge.Server.Storage.PostgresChangeListener"] = "Information",
        });
        // From another database: PostgreSQL refuses to close the door of the one a session is in.
        var name = new Npgsql.NpgsqlConnectionStringBuilder(database).Database!;
        await using var admin = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(database) { Database = "postgres" }.ConnectionString);
        await admin.OpenAsync();
        async Task Run(string sql)
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, admin);
            await command.ExecuteNonQueryAsync();
        }
        await using (a)
        await using (b)
        {
            await WaitUntilBothListenAsync(database);
            var tenantPath = $"/admin/v1/tenants/{a.Bootstrap.TenantKey}";
            const string calendars = "/open-apis/calendar/v4/calendars";
            var doomed = (await OperatorAsync(a, HttpMethod.Post, $"{tenantPath}/apps", new { name = "doomed" }))["data"]!;
            var doomedAppId = doomed["app_id"]!.GetValue<string>();
            var adminOnDoomed = OpenIdOf(await OperatorAsync(a, HttpMethod.Get, $"{tenantPath}/users/{a.Bootstrap.AdminUserId}"), doomedAppId);
            var doomedToken = await UserTokenAsync(a, doomedAppId, doomed["app_secret"]!.GetValue<string>(), adminOnDoomed);
            Assert.Equal((200, 0), await b.StatusAndCodeAsync(HttpMethod.Get, calendars, bearer: doomedToken)); // kept in B's memory

            // The change channel drops and cannot come back (the pools keep the connections they hold): every
            // notification sent from now on is lost, so B must stop answering from memory.
            try
            {
                await Run($"ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false");
                await Run($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND application_name = 'exchangebridge-listener'");
                await Eventually.TrueAsync(() => b.Output.Contains("Lost the PostgreSQL change channel", StringComparison.Ordinal), "B to log the lost channel", TimeSpan.FromSeconds(15));

                await OperatorAsync(a, HttpMethod.Delete, $"{tenantPath}/apps/{doomedAppId}");
                Assert.Equal((400, 99991668), await b.StatusAndCodeAsync(HttpMethod.Get, calendars, bearer: doomedToken));
            }
            finally
            {
                await Run($"ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS true");
            }
            await WaitUntilBothListenAsync(database);
            await Eventually.TrueAsync(() => b.Output.Contains("Listening to the PostgreSQL change channel again", StringComparison.Ordinal), "B to log listening again", TimeSpan.FromSeconds(15));
            Assert.Equal((400, 99991668), await b.StatusAndCodeAsync(HttpMethod.Get, calendars, bearer: doomedToken));
        }
        await admin.CloseAsync();
        TestDatabases.DropPostgresDatabase(database);
    }

    /// <summary>The open_id for <paramref name="appId"/> in an operator API answer about a user.</summary>
    private static string OpenIdOf(JsonObject answer, string appId) =>
        answer["data"]!["open_ids"]!.AsArray().First(o => o!["app_id"]!.GetValue<string>() == appId)!["open_id"]!.GetValue<string>();

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
