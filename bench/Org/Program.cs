// The organisation benchmark (bench/README.md, `bash bench/run org`): the simulator (hosted here) serves a company of
// mailboxes whose sizes follow a realistic spread and throttles as Exchange documents it; one server on SQLite, or two
// sharing PostgreSQL, get every mailbox bound through the Open API at the platform's 50 creates a second and import
// them with their default workers, while a reader measures the calendar read API. Exchange takes the simulator's
// modelled service time to answer (src/ExchangeBridge.ExchangeSimulator/README.md, "Service time"), scaled with the rest
// of time. Prints one Markdown row.
// Usage: dotnet ExchangeBridge.Bench.Org.dll SERVER_DLL sqlite|postgres   (settings: BENCH_ORG_* below)
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using Microsoft.Data.Sqlite;
using Npgsql;
using ExchangeBridge.Bench;
using static ExchangeBridge.Bench.BenchServer;

const string Password = "Org-Pa55";
const string GraphTenant = "org-tenant", GraphClient = "org-client", GraphSecret = "Org~Secret";
var serverDll = args[0];
var postgres = args.Length > 1 && args[1] == "postgres";
var mailboxCount = Setting("BENCH_ORG_MAILBOXES", 2000);
var connector = Environment.GetEnvironmentVariable("BENCH_ORG_CONNECTOR") ?? "ews";
var timeScale = Setting("BENCH_ORG_TIME_SCALE", 60);
var bindRate = Setting("BENCH_ORG_BIND_RATE", 50);
var readRate = Setting("BENCH_ORG_READ_RATE", 20);
var readAfterSeconds = Setting("BENCH_ORG_READ_AFTER_SECONDS", 10);
var timeout = TimeSpan.FromMinutes(Setting("BENCH_ORG_TIMEOUT_MINUTES", 60));
var instances = Setting("BENCH_ORG_INSTANCES", postgres ? 2 : 1);
// Admin accounts the company binds its mailboxes through, in turn: one is what a company does; several lift Exchange's
// concurrency per account out of the way, to see what instances add.
var adminCount = Setting("BENCH_ORG_ADMINS", 1);
var admins = Enumerable.Range(0, adminCount).Select(a => $"org-admin{a}@contoso.com").ToList();
var policy = ThrottlingPolicy.Documented.WithModelledServiceTimes().WithTimeScaledDownBy(timeScale);

// The company: most mailboxes a few hundred items, a tail of tens of thousands (log-normal, median 300, σ 1.3; the
// same company on every run). Items as the import benchmark generates them: singles with attendees and bodies, weekly
// series with a moved and a cancelled occurrence, all-day events.
var store = new MailboxStore();
foreach (var admin in admins) store.AddAdmin(admin, Password);
store.AddGraphApp(GraphTenant, GraphClient, GraphSecret);
var spread = new Random(7);
var mailboxes = Enumerable.Range(0, mailboxCount).Select(i =>
{
    var gaussian = Math.Sqrt(-2 * Math.Log(1 - spread.NextDouble())) * Math.Cos(2 * Math.PI * spread.NextDouble());
    var size = (int)Math.Clamp(Math.Round(300 * Math.Exp(1.3 * gaussian)), 10, 60_000);
    var address = $"employee{i:D5}@contoso.com";
    var folder = store.DefaultFolder(address);
    store.Generate(folder, size, DateTimeOffset.UtcNow, seed: i + 1);
    return (Address: address, Items: size, Events: store.CountImportableEvents(folder));
}).ToList();
store.EnforceThrottling(policy);

var certificate = SimulatorCertificate.Create();
await using var simulator = await StartSimulatorAsync(store, connector == "graph" ? certificate : null);
var simulatorBase = AddressOf(simulator);

var work = Directory.CreateTempSubdirectory("exbridge-bench-org-").FullName;
var trusted = Path.Combine(work, "simulator.pem");
File.WriteAllText(trusted, certificate.ExportCertificatePem());
var database = postgres ? await CreatePostgresDatabaseAsync() : null;
var environment = new Dictionary<string, string>
{
    ["ExchangeBridge__RateLimits__Enabled"] = "false", // the creates are paced here, at the platform's rate
    ["Logging__LogLevel__Default"] = "Warning",
    ["SSL_CERT_FILE"] = trusted,
};
// BENCH_ORG_LOG_DIR keeps each server's log there (server0.log, …), with the import's own steps (claims, leases, statuses,
// retries) at Debug and timestamps: what a run that did not finish needs to be explained.
var logDirectory = Environment.GetEnvironmentVariable("BENCH_ORG_LOG_DIR");
if (logDirectory is not null)
{
    Directory.CreateDirectory(logDirectory);
    environment["Logging__LogLevel__ExchangeBridge.Server.Import"] = "Debug";
    environment["Logging__Console__FormatterName"] = "simple";
    environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
    environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
    environment["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true";
}
// Each instance counts its own connections to an admin account (AdminAccountConnections): servers sharing the accounts
// are each given their share of the 25 a server takes alone, as the README of the settings says to.
if (instances > 1) environment["ExchangeBridge__Import__MaxConnectionsPerEwsAdminAccount"] = (25 / instances).ToString(CultureInfo.InvariantCulture);
if (database is not null)
{
    environment["ExchangeBridge__PostgresConnectionString"] = database;
    environment["ExchangeBridge__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
var servers = new List<(Process Process, HttpClient Http, string DataDir)>();
try
{
    for (var i = 0; i < instances; i++) servers.Add(await StartServerAsync(Path.Combine(work, $"server{i}")));
    var http = servers[0].Http;
    var bootstrap = JsonNode.Parse(File.ReadAllText(Path.Combine(servers[0].DataDir, "bootstrap.json")))!;
    string B(string key) => bootstrap[key]!.GetValue<string>();
    var tenantKey = B("tenant_key");
    var operatorKey = B("operator_key");
    object account = connector == "graph"
        ? new { connector, endpoint = new Uri(simulatorBase, "/v1.0").ToString(), graph_tenant_id = GraphTenant, graph_client_id = GraphClient, client_secret = GraphSecret }
        : new { connector, endpoint = new Uri(simulatorBase, "/EWS/Exchange.asmx").ToString(), password = Password, allow_cleartext_password = true };
    foreach (var admin in admins)
    {
        var registered = await SendAsync(http, HttpMethod.Put, $"/admin/v1/tenants/{tenantKey}/exchange_admin_accounts/{admin}", account, operatorKey);
        if (registered["data"]!["verification_state"]!.GetValue<string>() != "verified")
            throw new InvalidOperationException($"the admin account was not verified: {registered.ToJsonString()}");
    }
    var openIds = new List<string>(mailboxCount);
    for (var i = 0; i < mailboxCount; i++)
        openIds.Add((await SendAsync(http, HttpMethod.Post, $"/admin/v1/tenants/{tenantKey}/users", new { user_id = $"employee{i:D5}", name = $"Employee {i}" }, operatorKey))
            ["data"]!["open_ids"]![0]!["open_id"]!.GetValue<string>());
    var tenantToken = (await SendAsync(http, HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal", new { app_id = B("app_id"), app_secret = B("app_secret") }))
        ["tenant_access_token"]!.GetValue<string>();
    async Task<string> UserTokenAsync(HttpClient server, string openId)
    {
        var code = await SendAsync(server, HttpMethod.Post, "/admin/v1/authorization_codes", new { app_id = B("app_id"), open_id = openId }, operatorKey);
        return (await SendAsync(server, HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            new { grant_type = "authorization_code", code = code["data"]!["code"]!.GetValue<string>() }, tenantToken))["data"]!["access_token"]!.GetValue<string>();
    }
    var adminTokens = new List<string>();
    foreach (var server in servers) adminTokens.Add(await UserTokenAsync(server.Http, B("admin_open_id")));
    // Readers: every 20th employee reads their own calendar, through the instances in turn.
    var readers = new List<(HttpClient Http, string Token)>();
    for (var i = 0; i < mailboxCount; i += 20) readers.Add((servers[i / 20 % instances].Http, await UserTokenAsync(servers[i / 20 % instances].Http, openIds[i])));

    // Binding: creates paced at the platform's rate, spread over the instances as a load balancer would.
    var clock = Stopwatch.StartNew();
    var cpuBefore = servers.Select(s => s.Process.TotalProcessorTime).ToList();
    using var stopReading = new CancellationTokenSource();
    var readsDuring = new List<double>();
    var reading = ReadLoopAsync(readers, readsDuring, stopReading.Token);
    var creates = new List<Task>();
    for (var i = 0; i < mailboxCount; i++)
    {
        var due = TimeSpan.FromSeconds(i / (double)bindRate);
        if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
        var instance = i % instances;
        var body = new { admin_account = admins[i % adminCount], exchange_account = mailboxes[i].Address, user_id = openIds[i] };
        creates.Add(SendAsync(servers[instance].Http, HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings?user_id_type=open_id", body, adminTokens[instance]));
    }
    await Task.WhenAll(creates);
    var bound = clock.Elapsed;

    long done;
    while ((done = await CountDoneAsync()) < mailboxCount)
    {
        if (clock.Elapsed > timeout) throw new TimeoutException($"{done} of {mailboxCount} bindings done after {timeout}");
        await Task.Delay(1000);
    }
    var allDone = clock.Elapsed;
    var counters = store.ThrottlingCounters;
    await stopReading.CancelAsync();
    await reading;
    var readsAfter = new List<double>();
    using (var after = new CancellationTokenSource(TimeSpan.FromSeconds(readAfterSeconds)))
        await ReadLoopAsync(readers, readsAfter, after.Token);

    var (bindings, events) = await BindingTimesAsync();
    var expected = mailboxes.Sum(m => (long)m.Events);
    if (events != expected) throw new InvalidOperationException($"imported {events} events, the mailboxes hold {expected}");
    var durations = bindings.Select(b => (b.DoneMs - b.CreatedMs) / 1000.0).Order().ToList();
    var median = durations[durations.Count / 2];
    var fairShare = FairShareOf(bindings, events / allDone.TotalSeconds);
    // The share of the throttling budget the import used while work remained: the limit that binds an import is the
    // concurrency Exchange allows (EWS: EWSMaxConcurrency for each admin account; Graph: 4 per mailbox, so 4 for
    // every mailbox still importing), and the simulator counts how long admitted requests held their slots.
    var allowedSlotSeconds = connector == "graph"
        ? policy.GraphMaxConcurrencyPerMailbox * durations.Sum()
        : policy.EwsMaxConcurrency * adminCount * allDone.TotalSeconds;
    var budgetUsed = counters.BusySeconds / allowedSlotSeconds;
    var rss = string.Join(" / ", servers.Select(s => PeakResidentMb(s.Process.Id).ToString("N0", CultureInfo.InvariantCulture)));
    var cpu = string.Join(" / ", servers.Select((s, i) => { s.Process.Refresh(); return (s.Process.TotalProcessorTime - cpuBefore[i]).TotalSeconds.ToString("N0", CultureInfo.InvariantCulture); }));
    var megabytes = await DatabaseMegabytesAsync();
    Console.WriteLine(
        $"| {(postgres ? "PostgreSQL" : "SQLite")} | {instances} | {connector} × {adminCount} | {mailboxCount:N0} | {mailboxes.Sum(m => (long)m.Items):N0} (median {mailboxes.Select(m => m.Items).Order().ElementAt(mailboxCount / 2):N0}, max {mailboxes.Max(m => m.Items):N0}) | " +
        $"{events:N0} | {bound.TotalSeconds:F0} | {allDone.TotalSeconds:F0} | {events / allDone.TotalSeconds:N0} | {budgetUsed:P0} ({counters.RefusedForBudget:N0} over budget, {counters.RefusedForConcurrency:N0} over concurrency) | " +
        $"{durations[^1]:F1} / {median:F1} = {durations[^1] / median:F1} | {fairShare} | {rss} | {cpu} | {megabytes / (events / 1e6):N0} | " +
        $"{Percentile(readsDuring, 0.5):F1} / {Percentile(readsDuring, 0.99):F1} ({readsDuring.Count:N0}) | {Percentile(readsAfter, 0.5):F1} / {Percentile(readsAfter, 0.99):F1} ({readsAfter.Count:N0}) |");
}
finally
{
    foreach (var server in servers)
    {
        server.Process.Kill(entireProcessTree: true);
        await server.Process.WaitForExitAsync();
        server.Http.Dispose();
    }
    if (database is not null) await DropPostgresDatabaseAsync(database);
    Directory.Delete(work, recursive: true);
}

async Task<(Process Process, HttpClient Http, string DataDir)> StartServerAsync(string dataDir)
{
    Directory.CreateDirectory(dataDir);
    var log = logDirectory is null ? null : Path.Combine(logDirectory, Path.GetFileName(dataDir) + ".log");
    var (process, client) = await StartAsync(serverDll, dataDir, environment, log);
    return (process, client, dataDir);
}

// The reader: events of one week of an employee's primary calendar, at a steady rate, round the readers; a reader
// whose calendar the import has not made yet is skipped.
async Task ReadLoopAsync(List<(HttpClient Http, string Token)> readers, List<double> latencies, CancellationToken stop)
{
    var calendars = new string?[readers.Count];
    var from = DateTimeOffset.UtcNow.AddDays(-7).ToUnixTimeSeconds();
    var to = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    var next = Stopwatch.StartNew();
    for (var n = 0; !stop.IsCancellationRequested; n++)
    {
        var due = TimeSpan.FromSeconds(n / (double)readRate);
        if (due > next.Elapsed)
            try { await Task.Delay(due - next.Elapsed, stop); }
            catch (OperationCanceledException) { return; }
        var r = n % readers.Count;
        var (server, token) = readers[r];
        if (calendars[r] is null)
        {
            var list = await TryGetAsync(server, "/open-apis/calendar/v4/calendars", token);
            calendars[r] = list?["data"]?["calendar_list"]?.AsArray().FirstOrDefault()?["calendar_id"]?.GetValue<string>();
            continue;
        }
        var started = Stopwatch.GetTimestamp();
        var events = await TryGetAsync(server, $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendars[r]!)}/events?page_size=500&start_time={from}&end_time={to}", token);
        if (events is not null) latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}

async Task<long> CountDoneAsync() => await ScalarAsync("SELECT COUNT(*) FROM exchange_bindings WHERE status = 'done'");

// Per binding, its mailbox, create and done (Unix ms); and the events stored.
async Task<(List<(string Mailbox, long CreatedMs, long DoneMs)> Bindings, long Events)> BindingTimesAsync()
{
    var bindings = new List<(string Mailbox, long CreatedMs, long DoneMs)>();
    const string query = "SELECT exchange_account, created_at, imported_at FROM exchange_bindings";
    if (database is null)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(servers[0].DataDir, "exchangebridge.db")};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = query;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) bindings.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
    }
    else
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(query, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) bindings.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
    }
    return (bindings, await ScalarAsync("SELECT COUNT(*) FROM events"));
}

// Each binding's create→done against its fair share (bench/README.md, "fair share"; FairShare.cs): ideal processor sharing
// of the events/s this run achieved, replayed from the bindings' creates, each job capped at what it could import alone.
// Alone, a mailbox's calls follow one another: its folders, then per page of 512 items (the most EWS lists at once) a
// listing and one round of its GetItem batches (all at once on an idle account) in the window pass, and a listing in the
// pass that follows — Exchange's modelled service times (scaled as the run's), with our own CPU and database taken as
// free: a bound set by Exchange, not by our settings. The worst ratio (with its binding) and the 95th percentile.
string FairShareOf(List<(string Mailbox, long CreatedMs, long DoneMs)> bindings, double eventsPerSecond)
{
    var byAddress = mailboxes.ToDictionary(m => m.Address, StringComparer.OrdinalIgnoreCase);
    var firstCreate = bindings.Min(b => b.CreatedMs);
    TimeSpan Service(string operation) => policy.EwsServiceTimes.GetValueOrDefault(operation);
    double AloneSeconds(int items) => connector == "graph"
        ? 0 // Graph's calls are not modelled per page here: no cap
        : (Service("GetFolder") + Service("FindFolder")).TotalSeconds +
          Math.Ceiling(items / 512.0) * (Service("FindItem") + Service("GetItem") + Service("SyncFolderItems")).TotalSeconds;
    var jobs = bindings.Select(b =>
    {
        var mailbox = byAddress[b.Mailbox];
        var alone = AloneSeconds(mailbox.Items);
        return new FairShareJob((b.CreatedMs - firstCreate) / 1000.0, mailbox.Events, alone > 0 ? mailbox.Events / alone : double.PositiveInfinity);
    }).ToList();
    var ratios = FairShare.Ratios([.. bindings.Select(b => (b.DoneMs - b.CreatedMs) / 1000.0)], FairShare.IdealDurations(jobs, eventsPerSecond));
    var worst = Enumerable.Range(0, ratios.Length).MaxBy(i => ratios[i]);
    var p95 = ratios.Order().ElementAt(Math.Min(ratios.Length - 1, (int)(0.95 * ratios.Length)));
    return $"{ratios[worst]:F1} ({byAddress[bindings[worst].Mailbox].Items:N0} items, created at {jobs[worst].CreatedSeconds:F1} s) / {p95:F1}";
}

async Task<double> DatabaseMegabytesAsync()
{
    if (database is not null) return await ScalarAsync("SELECT pg_database_size(current_database())") / 1048576.0;
    return Directory.GetFiles(servers[0].DataDir, "exchangebridge.db*").Sum(f => new FileInfo(f).Length) / 1048576.0;
}

async Task<long> ScalarAsync(string sql)
{
    if (database is null)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(servers[0].DataDir, "exchangebridge.db")};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
    await using var pg = new NpgsqlConnection(database);
    await pg.OpenAsync();
    await using var pgCommand = new NpgsqlCommand(sql, pg);
    return Convert.ToInt64(await pgCommand.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
}

static async Task<string> CreatePostgresDatabaseAsync()
{
    var server = Environment.GetEnvironmentVariable("BENCH_ORG_POSTGRES") ?? "Host=127.0.0.1;Username=postgres;Password=postgres";
    var name = $"exbridge_bench_org_{DateTime.UtcNow:yyyyMMddHHmmss}";
    await using (var connection = new NpgsqlConnection(server))
    {
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync();
    }
    return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
}

static async Task DropPostgresDatabaseAsync(string database)
{
    var builder = new NpgsqlConnectionStringBuilder(database);
    var name = builder.Database;
    builder.Database = "postgres";
    NpgsqlConnection.ClearAllPools();
    await using var connection = new NpgsqlConnection(builder.ConnectionString);
    await connection.OpenAsync();
    await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
    await drop.ExecuteNonQueryAsync();
}

static async Task<JsonNode?> TryGetAsync(HttpClient http, string path, string bearer)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, path);
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
    using var response = await http.SendAsync(request);
    var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync());
    return answer?["code"]?.GetValue<int>() is 0 ? answer : null;
}

static double Percentile(List<double> values, double q)
{
    if (values.Count == 0) return double.NaN;
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
}

static int Setting(string name, int fallback) =>
    int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;
