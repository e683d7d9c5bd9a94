using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.ExchangeSimulator;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>
/// The simulator's throttling model (<see cref="ThrottlingPolicy"/>): EWS concurrency per calling account and a budget per
/// mailbox, Graph concurrency and a request budget per app and mailbox, each refusal shaped like Microsoft's documented
/// answer and each read by our connectors as throttled with the wait the answer names.
/// </summary>
public sealed class ThrottlingModelTests : IAsyncLifetime
{
    private const string Alisa = "alisa@contoso.com";
    private const string Bob = "bob@contoso.com";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly ManualClock _clock = new();
    private GraphSimulatorFixture _sim = null!;

    public async Task InitializeAsync() => _sim = await GraphSimulatorFixture.StartAsync(store =>
    {
        store.AddMailbox(Alisa);
        store.AddMailbox(Bob);
    });

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    [Fact]
    public void The_documented_figures_are_Microsofts()
    {
        var documented = ThrottlingPolicy.Documented;
        Assert.Equal(27, documented.EwsMaxConcurrency);
        Assert.Equal(TimeSpan.FromMilliseconds(300_000), documented.EwsMaxBurst);
        Assert.Equal(TimeSpan.FromMilliseconds(900_000), documented.EwsRechargePerHour);
        Assert.Equal(4, documented.GraphMaxConcurrencyPerMailbox);
        Assert.Equal((10_000, TimeSpan.FromMinutes(10)), (documented.GraphRequestsPerWindow, documented.GraphWindow));

        var scaled = documented.WithTimeScaledDownBy(60);
        Assert.Equal((10_000, TimeSpan.FromSeconds(10)), (scaled.GraphRequestsPerWindow, scaled.GraphWindow));
        Assert.Equal(TimeSpan.FromMilliseconds(900_000 * 60), scaled.EwsRechargePerHour);
        Assert.Equal((27, 4), (scaled.EwsMaxConcurrency, scaled.GraphMaxConcurrencyPerMailbox));

        Assert.Empty(documented.EwsServiceTimes); // Exchange answers at once unless a benchmark asks for the model
        var modelled = documented.WithModelledServiceTimes().WithTimeScaledDownBy(60);
        Assert.Equal(TimeSpan.FromMilliseconds(5), modelled.EwsServiceTimes["GetItem"]);
        Assert.Equal(TimeSpan.FromMilliseconds(2.5), modelled.GraphServiceTime);
    }

    [Fact]
    public async Task An_admitted_EWS_request_holds_its_connection_for_its_operations_service_time()
    {
        var service = TimeSpan.FromSeconds(2);
        _sim.Store.EnforceThrottling(ThrottlingPolicy.Documented with
        {
            EwsMaxConcurrency = 1, EwsServiceTimes = new Dictionary<string, TimeSpan> { ["GetFolder"] = service },
        }); // the real clock: service time is time spent
        var started = System.Diagnostics.Stopwatch.StartNew();
        var inService = PostEwsAsync(Alisa);
        await WaitUntilAsync(() => _sim.Store.ThrottlingCounters.Admitted == 1);

        Assert.Equal(HttpStatusCode.InternalServerError, (await PostEwsAsync(Bob)).Status); // the one connection is still Exchange's
        Assert.Equal(HttpStatusCode.OK, (await inService).Status);
        Assert.True(started.Elapsed >= service, $"answered after {started.Elapsed}");
        Assert.Equal(HttpStatusCode.OK, (await PostEwsAsync(Bob)).Status);
        Assert.True(_sim.Store.ThrottlingCounters.BusySeconds >= service.TotalSeconds);
    }

    [Fact]
    public async Task An_EWS_mailbox_over_its_budget_gets_the_documented_ServerBusy_fault_with_the_time_until_it_recharges()
    {
        // Three requests' worth of budget, recharging at the documented 900,000 ms an hour (0.25 ms a millisecond): a
        // fourth request waits 3,000 / 0.25 = 12,000 ms, longer than the connector waits in place, so it reports it.
        _sim.Store.EnforceThrottling(ThrottlingPolicy.Documented with
        {
            EwsMaxBurst = TimeSpan.FromSeconds(9), EwsChargePerRequest = TimeSpan.FromSeconds(3),
        }, _clock);
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await PostEwsAsync(Alisa)).Status);

        var refused = await PostEwsAsync(Alisa);
        Assert.Equal(HttpStatusCode.InternalServerError, refused.Status);
        Assert.Equal(XmlPaths.Of(XmlPaths.Sample("soapfault.ErrorServerBusy.BackOffMilliseconds.exchangelib.xml")), XmlPaths.Of(refused.Body));
        Assert.Equal("12000", BackOffMilliseconds(refused.Body));

        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => _sim.Ews.ListCalendarFoldersAsync(_sim.EwsAdmin, Alisa, default));
        Assert.Equal((ExchangeFailureKind.Throttled, TimeSpan.FromMilliseconds(12_000)), (e.Kind, e.RetryAfter));
        Assert.Equal(HttpStatusCode.OK, (await PostEwsAsync(Bob)).Status); // a budget per mailbox

        _clock.Advance(TimeSpan.FromMilliseconds(12_000));
        Assert.Equal(HttpStatusCode.OK, (await PostEwsAsync(Alisa)).Status);
        Assert.Equal(HttpStatusCode.InternalServerError, (await PostEwsAsync(Alisa)).Status);
        Assert.Equal((5L, 3L), (_sim.Store.ThrottlingCounters.Admitted, _sim.Store.ThrottlingCounters.RefusedForBudget));
    }

    [Fact]
    public async Task EWS_connections_past_EWSMaxConcurrency_are_refused_until_one_of_the_accounts_connections_ends()
    {
        _sim.Store.EnforceThrottling(ThrottlingPolicy.Documented with { EwsMaxConcurrency = 2 }, _clock);
        _sim.Store.InjectFault(Alisa, SimFault.Hang, requests: 2);
        using var giveUp = new CancellationTokenSource();
        var hanging = Enumerable.Range(0, 2).Select(_ => PostEwsAsync(Alisa, giveUp.Token)).ToList();
        await WaitUntilAsync(() => _sim.Store.ThrottlingCounters.Admitted == 2);

        Assert.Equal(2, _sim.Store.ThrottlingCounters.PeakConcurrency);
        var refused = await PostEwsAsync(Bob); // another mailbox, the same calling account
        Assert.Equal(HttpStatusCode.InternalServerError, refused.Status);
        Assert.Equal("ErrorExceededConnectionCount", XDocument.Parse(refused.Body).Descendants().Single(d => d.Name.LocalName == "ResponseCode").Value);
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => _sim.Ews.ListCalendarFoldersAsync(_sim.EwsAdmin, Bob, default));
        Assert.Equal(ExchangeFailureKind.Throttled, e.Kind);

        await giveUp.CancelAsync();
        await Task.WhenAll(hanging.Select(h => h.ContinueWith(_ => { }, TaskScheduler.Default)));
        await WaitUntilAsync(async () => (await PostEwsAsync(Bob)).Status == HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_Graph_app_over_its_request_budget_for_a_mailbox_gets_the_documented_429_with_Retry_After()
    {
        // 3 requests per 40 s: one more request's worth comes back after 40 / 3 s, a Retry-After with a fraction as in
        // Microsoft's sample ("Retry-After: 2.128"), and longer than the connector waits in place, so it reports it.
        _sim.Store.EnforceThrottling(ThrottlingPolicy.Documented with { GraphRequestsPerWindow = 3, GraphWindow = TimeSpan.FromSeconds(40) }, _clock);
        var token = await GraphTokenAsync();
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await GetGraphAsync(token, Alisa)).StatusCode);

        using var refused = await GetGraphAsync(token, Alisa);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("13.334", refused.Headers.GetValues("Retry-After").Single());
        var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(("TooManyRequests", "Please retry again later."), (error["code"]!.GetValue<string>(), error["message"]!.GetValue<string>()));
        Assert.Equal(("429", "429"), (error["innerError"]!["code"]!.GetValue<string>(), error["innerError"]!["status"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, (await GetGraphAsync(token, Bob)).StatusCode); // a budget per mailbox

        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => _sim.Connector.ListCalendarFoldersAsync(_sim.Admin, Alisa, default));
        Assert.Equal((ExchangeFailureKind.Throttled, TimeSpan.FromMilliseconds(13_334)), (e.Kind, e.RetryAfter));

        _clock.Advance(TimeSpan.FromMilliseconds(13_334));
        Assert.Equal(HttpStatusCode.OK, (await GetGraphAsync(token, Alisa)).StatusCode);
    }

    [Fact]
    public async Task Graph_requests_past_the_concurrency_limit_of_a_mailbox_get_429_and_other_mailboxes_are_served()
    {
        _sim.Store.EnforceThrottling(ThrottlingPolicy.Documented with { GraphMaxConcurrencyPerMailbox = 2 }, _clock);
        _sim.Store.InjectFault(Alisa, SimFault.Hang, requests: 2);
        var token = await GraphTokenAsync();
        using var giveUp = new CancellationTokenSource();
        var hanging = Enumerable.Range(0, 2).Select(_ => GetGraphAsync(token, Alisa, giveUp.Token)).ToList();
        await WaitUntilAsync(() => _sim.Store.ThrottlingCounters.Admitted == 2);

        using (var refused = await GetGraphAsync(token, Alisa))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
            Assert.Contains("MailboxConcurrency", await refused.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.OK, (await GetGraphAsync(token, Bob)).StatusCode);

        await giveUp.CancelAsync();
        await Task.WhenAll(hanging.Select(h => h.ContinueWith(_ => { }, TaskScheduler.Default)));
        await WaitUntilAsync(async () => (await GetGraphAsync(token, Alisa)).StatusCode == HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_Graph_connector_waits_out_the_Retry_After_of_throttled_requests_in_a_batch_and_gets_them_all()
    {
        // 3 requests per 6 s on the real clock, a request's worth back every 2 s: of a batch of 5 (served one after the
        // other well within 2 s, even on a busy machine), two are refused and sent again after their Retry-After, within
        // the connector's 10 s of waiting.
        _sim.Store.EnforceThrottling(ThrottlingPolicy.Documented with { GraphRequestsPerWindow = 3, GraphWindow = TimeSpan.FromSeconds(6) });
        var folder = _sim.Store.DefaultFolder(Alisa);
        var start = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 5).Select(i => _sim.Store.Put(folder,
            new SimCalendarItem { ItemId = $"m{i}", Subject = $"M{i}", Start = start.AddDays(i), End = start.AddDays(i).AddHours(1) }).ItemId).ToList();

        var events = await _sim.Connector.GetEventsAsync(_sim.Admin, Alisa, ids, default);

        Assert.Equal(ids, events.Select(e => e.ItemId));
        Assert.True(_sim.Store.ThrottlingCounters.RefusedForBudget >= 2);
    }

    private async Task<(HttpStatusCode Status, string Body)> PostEwsAsync(string mailbox, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, _sim.EwsEndpoint)
        {
            Content = new StringContent($"""
                <?xml version="1.0" encoding="utf-8"?>
                <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
                  <s:Header><t:RequestServerVersion Version="Exchange2013"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{mailbox}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>
                  <s:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder></s:Body>
                </s:Envelope>
                """, Encoding.UTF8, "text/xml"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{GraphSimulatorFixture.AdminUser}:{GraphSimulatorFixture.AdminPassword}")));
        using var response = await http.SendAsync(request, cancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    private static string? BackOffMilliseconds(string fault) =>
        XDocument.Parse(fault).Descendants().SingleOrDefault(e => e.Name.LocalName == "Value" && (string?)e.Attribute("Name") == "BackOffMilliseconds")?.Value;

    private async Task<string> GraphTokenAsync()
    {
        using var http = new HttpClient(_sim.TrustingHandler());
        using var answer = await http.PostAsync(new Uri(_sim.GraphEndpoint, $"/{GraphSimulatorFixture.TenantId}/oauth2/v2.0/token"), new FormUrlEncodedContent(
            new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = GraphSimulatorFixture.ClientId,
                ["client_secret"] = GraphSimulatorFixture.ClientSecret, ["scope"] = "https://graph.microsoft.com/.default",
            }));
        return JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
    }

    private async Task<HttpResponseMessage> GetGraphAsync(string token, string mailbox, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient(_sim.TrustingHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_sim.GraphEndpoint, $"/v1.0/users/{mailbox}/calendars"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await http.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        return response;
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    /// <summary>Polls a condition until it holds, failing after <see cref="Deadline"/>.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not hold before the deadline");
            await Task.Delay(10);
        }
    }

    /// <summary>The time budgets recharge by, moved by the test.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }
}
