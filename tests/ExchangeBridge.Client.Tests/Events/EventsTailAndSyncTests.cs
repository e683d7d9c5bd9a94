using System.Net;
using System.Text;
using System.Text.Json;
using ExchangeBridge.Client.Tests.Infrastructure;

namespace ExchangeBridge.Client.Tests.Events;

/// <summary>A server importing the demo mailbox, its bootstrap app's events sent to a request URL that refuses them.</summary>
public sealed class ImportingServer() : ServerFixture(new Dictionary<string, string>
{
    ["ExchangeBridge__Import__Workers"] = "1",
    ["ExchangeBridge__Import__PollMilliseconds"] = "50",
    ["ExchangeBridge__Events__PollMilliseconds"] = "50",
});

/// <summary>
/// What an app and an operator need of pushed changes, through the typed client and exbridge: the client's sync round
/// over a calendar's events, and <c>exbridge events tail</c> showing a delivery the app refused, with why and when next.
/// </summary>
public sealed class EventsTailAndSyncTests(ImportingServer fixture) : IClassFixture<ImportingServer>, IDisposable
{
    private const string DemoEmployeeOpenId = "ou_xxxxxxxxxxxxxxxxxx";
    private readonly string _folder = Directory.CreateTempSubdirectory("exbridge-events-test-").FullName;
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task The_client_syncs_a_calendar_and_events_tail_shows_the_deliveries_the_app_refused()
    {
        using var refusing = RefusingRequestUrl.Start();
        using var operatorClient = Server.OperatorClient();
        var settings = await operatorClient.PutEventSettingsAsync(Server.Bootstrap.TenantKey, Server.Bootstrap.AppId,
            new EventSettingsRequest(refusing.Url, "tail-token", EventTypes: ["exchange_bridge.exchange_binding.status_changed_v1"]));
        Assert.False(settings.HasEncryptKey);

        using var admin = await Server.SuperAdminClientAsync();
        var binding = await admin.CreateExchangeBindingAsync(new("email_admin_example@outlook.com", "email_account_example@outlook.com",
            DemoEmployeeOpenId));
        IReadOnlyList<EventDelivery> deliveries = [];
        await Eventually.TrueAsync(() =>
        {
            deliveries = operatorClient.ListEventDeliveriesAsync(Server.Bootstrap.TenantKey, state: "pending").GetAwaiter().GetResult();
            return deliveries.Any(d => d.LastError == "HTTP 500");
        }, "a refused delivery");

        var tail = await new Exbridge(Server, _folder).RunAsync("events", "tail", "--tenant", Server.Bootstrap.TenantKey, "--json");
        Assert.True(tail.ExitCode == 0, tail.ToString()); // refused for now, not failed for good: retried on the schedule
        var shown = tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(shown, d => d.GetProperty("event_type").GetString() == "exchange_bridge.exchange_binding.status_changed_v1"
                                    && d.GetProperty("state").GetString() == "pending" && d.GetProperty("last_error").GetString() == "HTTP 500");

        // Once imported, the employee's app reads the calendar, then what changed since: nothing, and a token to go on with.
        await Eventually.TrueAsync(() => admin.GetExchangeBindingAsync(binding.ExchangeBindingId).GetAwaiter().GetResult().Status == "done",
            "the import", TimeSpan.FromMinutes(1));
        using var employee = new FeishuClient(Server.ClientOptions());
        await employee.ExchangeAuthorizationCodeAsync(await Server.MintCodeAsync(DemoEmployeeOpenId));
        var calendar = employee.GetCalendarsAsync().ToBlockingEnumerable().First(c => c.Summary == "Calendar");
        var full = await employee.SyncCalendarEventsAsync(calendar.CalendarId);
        Assert.NotEmpty(full.SyncToken);
        Assert.Contains(full.Events, e => e.Summary == "Project kick-off");
        var since = await employee.SyncCalendarEventsAsync(calendar.CalendarId, full.SyncToken);
        Assert.Empty(since.Events);
        Assert.NotEmpty(since.SyncToken);
        var expired = await Assert.ThrowsAsync<FeishuApiException>(() => employee.SyncCalendarEventsAsync(calendar.CalendarId, "not-a-token"));
        Assert.Equal(190008, expired.Code);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>An app's request URL that answers the verification challenge and refuses every event with HTTP 500.</summary>
    private sealed class RefusingRequestUrl : IDisposable
    {
        private readonly HttpListener _listener = new();

        private RefusingRequestUrl(int port)
        {
            Url = $"http://127.0.0.1:{port}/events/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = Task.Run(AnswerAsync);
        }

        public string Url { get; }

        public static RefusingRequestUrl Start() => new(ServerProcess.FreePort());

        private async Task AnswerAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                using var reader = new StreamReader(context.Request.InputStream);
                using var body = JsonDocument.Parse(await reader.ReadToEndAsync());
                if (body.RootElement.TryGetProperty("type", out var type) && type.GetString() == "url_verification")
                {
                    var answer = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { challenge = body.RootElement.GetProperty("challenge").GetString() }));
                    await context.Response.OutputStream.WriteAsync(answer);
                }
                else context.Response.StatusCode = 500;
                context.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }
}
