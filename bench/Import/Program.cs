// The import benchmark (bench/README.md): for each mailbox size, a fresh Release server process imports a generated
// mailbox from the simulator (hosted here, on loopback) through the real Open API flow, over EWS or, with
// --connector graph, over Microsoft Graph (the simulator's Graph endpoints on HTTPS with a throw-away certificate the
// server trusts through SSL_CERT_FILE); prints one Markdown row per size with events per second, the server's CPU time and
// bytes allocated per event (the runtime's own counter, from its /metrics) and its peak resident memory (VmHWM), so that
// growth with mailbox size shows.
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using static ExchangeBridge.Bench.BenchServer;

const string Admin = "bench-admin@contoso.com", Password = "Bench-Pa55", Mailbox = "bench-user@contoso.com";
const string GraphTenant = "bench-tenant", GraphClient = "bench-client", GraphSecret = "Bench~Secret";
var connectorAt = Array.IndexOf(args, "--connector");
var connector = connectorAt >= 0 && connectorAt + 1 < args.Length ? args[connectorAt + 1] : "ews";
if (connector is not ("ews" or "graph")) throw new ArgumentException("--connector must be ews or graph");
var positional = args.Where((_, i) => connectorAt < 0 || (i != connectorAt && i != connectorAt + 1)).ToArray();
var serverDll = positional[0];
var sizes = positional.Skip(1).Select(int.Parse).DefaultIfEmpty(100_000).ToArray();

Console.WriteLine("| connector | mailbox items | events stored | import s (bind → done) | events/s | server CPU s | server KB allocated per event | simulator + driver CPU s | server peak RSS MB | target |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
foreach (var size in sizes)
{
    var row = await MeasureAsync(size);
    Console.WriteLine($"| {connector} | {size:N0} | {row.Events:N0} | {row.Seconds:F1} | {row.Events / row.Seconds:N0} | {row.ServerCpu:F1} | {row.AllocatedBytes / 1024.0 / row.Events:F1} | {row.OwnCpu:F1} | {row.PeakRssMb:N0} | ≥ 5,000 events/s; peak flat in size |");
}

async Task<(long Events, double Seconds, double ServerCpu, long AllocatedBytes, double OwnCpu, double PeakRssMb)> MeasureAsync(int size)
{
    var store = new MailboxStore();
    store.AddAdmin(Admin, Password);
    store.AddGraphApp(GraphTenant, GraphClient, GraphSecret);
    var folder = store.DefaultFolder(Mailbox);
    store.Generate(folder, size, DateTimeOffset.UtcNow);
    var expected = store.CountImportableEvents(folder);

    var certificate = SimulatorCertificate.Create();
    await using var simulator = await StartSimulatorAsync(store, connector == "graph" ? certificate : null);
    var simulatorBase = AddressOf(simulator);
    object account = connector == "graph"
        ? new { connector, endpoint = new Uri(simulatorBase, "/v1.0").ToString(), graph_tenant_id = GraphTenant, graph_client_id = GraphClient, client_secret = GraphSecret }
        : new { connector, endpoint = new Uri(simulatorBase, "/EWS/Exchange.asmx").ToString(), password = Password, allow_cleartext_password = true };

    var dataDir = Directory.CreateTempSubdirectory("exbridge-bench-import-").FullName;
    // The server trusts the simulator's certificate and nothing else (.NET on Linux reads SSL_CERT_FILE as its root store).
    var trusted = Path.Combine(dataDir, "simulator.pem");
    File.WriteAllText(trusted, certificate.ExportCertificatePem());
    var (server, http) = await StartAsync(serverDll, dataDir, new Dictionary<string, string>
    {
        ["ExchangeBridge__RateLimits__Enabled"] = "false",
        ["ExchangeBridge__Import__Workers"] = "1",
        ["Logging__LogLevel__Default"] = "Warning",
        ["SSL_CERT_FILE"] = trusted,
        [FreshMetrics.Key] = FreshMetrics.Value,
    });
    try
    {
        var bootstrap = JsonNode.Parse(File.ReadAllText(Path.Combine(dataDir, "bootstrap.json")))!;
        string S(string key) => bootstrap[key]!.GetValue<string>();
        var tenantKey = S("tenant_key");
        var user = await SendAsync(http, HttpMethod.Post, $"/admin/v1/tenants/{tenantKey}/users", new { user_id = "bench", name = "Bench" }, S("operator_key"));
        var openId = user["data"]!["open_ids"]![0]!["open_id"]!.GetValue<string>();
        var registered = await SendAsync(http, HttpMethod.Put, $"/admin/v1/tenants/{tenantKey}/exchange_admin_accounts/{Admin}", account, S("operator_key"));
        if (registered["data"]!["verification_state"]!.GetValue<string>() != "verified")
            throw new InvalidOperationException($"the admin account was not verified: {registered.ToJsonString()}");
        var code = await SendAsync(http, HttpMethod.Post, "/admin/v1/authorization_codes", new { app_id = S("app_id"), open_id = S("admin_open_id") }, S("operator_key"));
        var tenant = await SendAsync(http, HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal", new { app_id = S("app_id"), app_secret = S("app_secret") });
        var token = (await SendAsync(http, HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            new { grant_type = "authorization_code", code = code["data"]!["code"]!.GetValue<string>() }, tenant["tenant_access_token"]!.GetValue<string>()))
            ["data"]!["access_token"]!.GetValue<string>();

        var clock = Stopwatch.StartNew();
        var ownCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        server.Refresh();
        var serverCpuBefore = server.TotalProcessorTime;
        var allocatedBefore = await AllocatedBytesAsync(http);
        var created = await SendAsync(http, HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
            new { admin_account = Admin, exchange_account = Mailbox, user_id = openId }, token);
        var bindingId = created["data"]!["exchange_binding_id"]!.GetValue<string>();
        JsonNode diagnostics;
        while (true)
        {
            diagnostics = (await SendAsync(http, HttpMethod.Get,
                $"/admin/v1/tenants/{tenantKey}/exchange_bindings?exchange_binding_id={Uri.EscapeDataString(bindingId)}", null, S("operator_key")))["data"]!;
            var status = diagnostics["status"]!.GetValue<string>();
            if (status == "done") break;
            if (status == "err") throw new InvalidOperationException($"import failed: {diagnostics.ToJsonString()}");
            await Task.Delay(100);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var allocated = await AllocatedBytesAsync(http) - allocatedBefore;
        server.Refresh();
        var serverCpu = (server.TotalProcessorTime - serverCpuBefore).TotalSeconds;
        var ownCpu = (Process.GetCurrentProcess().TotalProcessorTime - ownCpuBefore).TotalSeconds;
        var events = diagnostics["calendars"]!.AsArray().Sum(c => c!["events"]!.GetValue<long>());
        if (events != expected) throw new InvalidOperationException($"imported {events} events, the mailbox holds {expected}");
        return (events, seconds, serverCpu, allocated, ownCpu, PeakResidentMb(server.Id));
    }
    finally
    {
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
        server.Dispose();
        http.Dispose();
        Directory.Delete(dataDir, recursive: true);
    }
}
