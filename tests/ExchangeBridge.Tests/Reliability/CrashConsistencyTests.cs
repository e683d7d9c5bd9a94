using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Tests.Reliability;

/// <summary>
/// Creates and deletes under load while the server is killed with SIGKILL at random moments, over and over: every
/// acknowledged create must be there afterwards, every acknowledged delete gone, and the queue must hold exactly
/// one import job per binding ever made and one clean-up job per binding removed.
/// </summary>
public sealed class CrashConsistencyTests
{
    private const string Admin = "email_admin_example@outlook.com";
    private const int Accounts = 48;
    private const int Kills = 20;

    private enum Acked { Unknown, Bound, Unbound }

    [Fact]
    public async Task Nothing_acknowledged_is_lost_and_no_job_is_lost_or_doubled_across_20_kills()
    {
        var dataDir = Directory.CreateTempSubdirectory("exbridge-crash-").FullName;
        var environment = new Dictionary<string, string>
        {
            ["ExchangeBridge__Import__Workers"] = "0", // jobs stay as enqueued, to be counted
            ["ExchangeBridge__RateLimits__Enabled"] = "false",
        };
        var random = new Random(20261125);
        var state = new Acked[Accounts];
        var userIds = Enumerable.Range(0, Accounts).Select(i => $"crash{i}").ToArray();

        await using (var first = await ServerProcess.StartAsync(dataDir, environment))
        {
            var key = first.Bootstrap.OperatorKey;
            await Task.WhenAll(userIds.Select(u => first.StatusAndCodeAsync(HttpMethod.Post, $"/admin/v1/tenants/{first.Bootstrap.TenantKey}/users",
                new { user_id = u, name = u }, key)));
        }

        for (var round = 0; round < Kills; round++)
        {
            var server = await ServerProcess.StartAsync(dataDir, environment);
            var token = await AdminUserTokenAsync(server);
            var acknowledged = 0;
            var killAfter = random.Next(5, 60);
            using var stop = new CancellationTokenSource();
            var inFlight = new ConcurrentDictionary<int, bool>();

            // Eight clients, each owning its own accounts, flipping them between bound and unbound.
            var clients = Enumerable.Range(0, 8).Select(client => Task.Run(async () =>
            {
                var mine = Enumerable.Range(0, Accounts).Where(i => i % 8 == client).ToArray();
                var local = new Random(round * 31 + client);
                while (!stop.IsCancellationRequested)
                {
                    var i = mine[local.Next(mine.Length)];
                    var create = state[i] != Acked.Bound;
                    inFlight[i] = true;
                    try
                    {
                        var (status, code) = create
                            ? await server.StatusAndCodeAsync(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings?user_id_type=user_id",
                                new { admin_account = Admin, exchange_account = Account(i), user_id = userIds[i] }, token)
                            : await server.StatusAndCodeAsync(HttpMethod.Delete, $"/open-apis/calendar/v4/exchange_bindings/{Id(i)}", null, token);
                        if (status == 200 && code == 0) state[i] = create ? Acked.Bound : Acked.Unbound;
                        else if (!create && code == 195103) state[i] = Acked.Unbound;
                        else throw new InvalidOperationException($"unexpected answer {status}/{code}");
                        inFlight.TryRemove(i, out _);
                        if (Interlocked.Increment(ref acknowledged) >= killAfter) await stop.CancelAsync();
                    }
                    catch (Exception) when (stop.IsCancellationRequested || server.HasExited)
                    {
                        // The kill cut this request off: its outcome is unknown, either way is right.
                        state[i] = Acked.Unknown;
                        return;
                    }
                }
            })).ToArray();

            await Task.WhenAny(Task.WhenAll(clients), Task.Run(async () => { while (!stop.IsCancellationRequested) await Task.Delay(1); }));
            server.Kill();
            await Task.WhenAll(clients.Select(c => c.ContinueWith(_ => { })));
            foreach (var i in inFlight.Keys) state[i] = Acked.Unknown;
            await server.DisposeAsync();
        }

        await using (var last = await ServerProcess.StartAsync(dataDir, environment))
        {
            var token = await AdminUserTokenAsync(last);
            for (var i = 0; i < Accounts; i++)
            {
                var (status, code) = await last.StatusAndCodeAsync(HttpMethod.Get, $"/open-apis/calendar/v4/exchange_bindings/{Id(i)}", null, token);
                if (state[i] == Acked.Bound) Assert.True(status == 200 && code == 0, $"acknowledged create of {Account(i)} lost ({status}/{code})");
                if (state[i] == Acked.Unbound) Assert.True(code == 195103, $"acknowledged delete of {Account(i)} undone ({status}/{code})");
            }
        }

        await using var db = new SqliteConnection($"Data Source={Path.Combine(dataDir, "exchangebridge.db")}");
        var live = (await db.QueryAsync<long>("SELECT id FROM exchange_bindings")).ToHashSet();
        var jobs = (await db.QueryAsync<(long BindingKey, string Kind, string State)>("SELECT binding_key, kind, state FROM sync_jobs")).ToList();
        var everBound = jobs.Select(j => j.BindingKey).ToHashSet();
        Assert.True(live.IsSubsetOf(everBound), "a binding without its import job");
        foreach (var key in everBound)
        {
            var imports = jobs.Count(j => j.BindingKey == key && j.Kind == "import");
            var cleanUps = jobs.Count(j => j.BindingKey == key && j.Kind == "unbind");
            Assert.Equal(1, imports);
            Assert.Equal(live.Contains(key) ? 0 : 1, cleanUps);
            var importState = jobs.Single(j => j.BindingKey == key && j.Kind == "import").State;
            Assert.Equal(live.Contains(key) ? "queued" : "cancelled", importState);
        }
        Assert.True(everBound.Count > Accounts / 2, $"the load made too few bindings to prove anything ({everBound.Count})");
    }

    private static string Account(int i) => $"crash{i}@contoso.com";

    private static string Id(int i) => ExchangeBindingId.Encode(Admin, Account(i));

    private static async Task<string> AdminUserTokenAsync(ServerProcess server)
    {
        var bootstrap = server.Bootstrap;
        var code = await Json(server, HttpMethod.Post, "/admin/v1/authorization_codes", new { app_id = bootstrap.AppId, open_id = bootstrap.AdminOpenId }, bootstrap.OperatorKey);
        var tenant = await Json(server, HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal", new { app_id = bootstrap.AppId, app_secret = bootstrap.AppSecret });
        var user = await Json(server, HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            new { grant_type = "authorization_code", code = code["data"]!["code"]!.GetValue<string>() }, tenant["tenant_access_token"]!.GetValue<string>());
        return user["data"]!["access_token"]!.GetValue<string>();
    }

    private static async Task<JsonObject> Json(ServerProcess server, HttpMethod method, string path, object body, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await server.Http.SendAsync(request);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }
}
