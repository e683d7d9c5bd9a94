using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>The simulator's <c>POST /v1.0/$batch</c> on the wire, shaped as learn.microsoft.com/graph/json-batching documents it.</summary>
public sealed class GraphSimulatorBatchTests : IAsyncLifetime
{
    private const string Mailbox = "alisa@contoso.com";
    private static readonly DateTimeOffset Monday = new(2026, 11, 30, 1, 0, 0, TimeSpan.Zero);
    private GraphSimulatorFixture _sim = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _sim = await GraphSimulatorFixture.StartAsync(s => s.AddMailbox(Mailbox));
        _http = new HttpClient(_sim.TrustingHandler());
        var token = await _http.PostAsync($"{_sim.GraphEndpoint.GetLeftPart(UriPartial.Authority)}/{GraphSimulatorFixture.TenantId}/oauth2/v2.0/token",
            new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = GraphSimulatorFixture.ClientId,
                ["client_secret"] = GraphSimulatorFixture.ClientSecret, ["scope"] = "https://graph.microsoft.com/.default",
            }));
        token.EnsureSuccessStatusCode();
        var accessToken = JsonNode.Parse(await token.Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        for (var i = 1; i <= 3; i++)
            _sim.Store.Put(_sim.Store.DefaultFolder(Mailbox), new SimCalendarItem { ItemId = $"e{i}", Subject = $"E{i}", Start = Monday, End = Monday.AddHours(1) });
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sim.DisposeAsync();
    }

    private static JsonObject Get(string id, string url) => new() { ["id"] = id, ["method"] = "GET", ["url"] = url };

    private async Task<(HttpStatusCode Status, JsonObject Body)> PostBatchAsync(params JsonObject[] requests)
    {
        var body = new JsonObject { ["requests"] = new JsonArray([.. requests]) };
        var response = await _http.PostAsync($"{_sim.GraphEndpoint}/$batch", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private static JsonObject ResponseOf(JsonObject batch, string id) =>
        batch["responses"]!.AsArray().Single(r => r!["id"]!.GetValue<string>() == id)!.AsObject();

    [Fact]
    public async Task A_batch_of_three_GETs_answers_each_event_under_its_request_id()
    {
        var (status, batch) = await PostBatchAsync(
            Get("1", $"/users/{Mailbox}/events/e1?$select=subject"),
            Get("2", $"/users/{Mailbox}/events/e2"),
            Get("3", $"users/{Mailbox}/events/e3")); // the documented samples write the url with or without its leading slash

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["1", "2", "3"], batch["responses"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()).Order());
        foreach (var (id, eventId) in new[] { ("1", "e1"), ("2", "e2"), ("3", "e3") })
        {
            var response = ResponseOf(batch, id);
            Assert.Equal(200, response["status"]!.GetValue<int>());
            Assert.StartsWith("application/json", response["headers"]!["Content-Type"]!.GetValue<string>());
            Assert.Equal(eventId, response["body"]!["id"]!.GetValue<string>());
            Assert.Equal(eventId.ToUpperInvariant(), response["body"]!["subject"]!.GetValue<string>());
        }
        Assert.Null(ResponseOf(batch, "1")["body"]!["start"]); // the request's own $select applies
    }

    [Fact]
    public async Task More_than_twenty_requests_are_refused_whole_with_400()
    {
        var (status, body) = await PostBatchAsync([.. Enumerable.Range(1, GraphSimulator.MaxBatchRequests + 1).Select(i => Get($"{i}", $"/users/{Mailbox}/events/e1"))]);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("BadRequest", body["error"]!["code"]!.GetValue<string>());
        Assert.Null(body["responses"]);

        var (twenty, _) = await PostBatchAsync([.. Enumerable.Range(1, GraphSimulator.MaxBatchRequests).Select(i => Get($"{i}", $"/users/{Mailbox}/events/e1"))]);
        Assert.Equal(HttpStatusCode.OK, twenty);
    }

    [Theory]
    [InlineData("""{"requests":[]}""")]
    [InlineData("""{"requests":[{"id":"1","method":"GET","url":"/users/alisa@contoso.com/events/e1"},{"id":"1","method":"GET","url":"/users/alisa@contoso.com/events/e2"}]}""")]
    [InlineData("""{"requests":[{"id":"a","method":"GET","url":"/users/alisa@contoso.com/events/e1"},{"id":"A","method":"GET","url":"/users/alisa@contoso.com/events/e2"}]}""")]
    [InlineData("""{"requests":[{"id":"1","url":"/users/alisa@contoso.com/events/e1"}]}""")]
    [InlineData("""{"requests":[{"id":"1","method":"GET","url":"https://graph.microsoft.com/v1.0/users/alisa@contoso.com/events/e1"}]}""")]
    [InlineData("""{"value":[]}""")]
    [InlineData("""not json""")]
    public async Task A_body_outside_the_documented_shape_is_refused_with_400(string body)
    {
        var response = await _http.PostAsync($"{_sim.GraphEndpoint}/$batch", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("BadRequest", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_id_is_its_own_404_inside_a_200_batch()
    {
        var (status, batch) = await PostBatchAsync(Get("1", $"/users/{Mailbox}/events/e1"), Get("2", $"/users/{Mailbox}/events/gone"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(200, ResponseOf(batch, "1")["status"]!.GetValue<int>());
        var missing = ResponseOf(batch, "2");
        Assert.Equal(404, missing["status"]!.GetValue<int>());
        Assert.Equal("ErrorItemNotFound", missing["body"]!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Throttling_answers_the_request_it_hits_with_429_and_Retry_After_and_the_others_normally()
    {
        _sim.Store.RefuseAsBusy(1, TimeSpan.FromSeconds(42));
        var (status, batch) = await PostBatchAsync(Get("1", $"/users/{Mailbox}/events/e1"), Get("2", $"/users/{Mailbox}/events/e2"));
        Assert.Equal(HttpStatusCode.OK, status);
        var throttled = ResponseOf(batch, "1");
        Assert.Equal(429, throttled["status"]!.GetValue<int>());
        Assert.Equal("42", throttled["headers"]!["Retry-After"]!.GetValue<string>());
        Assert.Equal("ApplicationThrottled", throttled["body"]!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(200, ResponseOf(batch, "2")["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task Each_request_is_checked_as_if_sent_alone()
    {
        var (_, batch) = await PostBatchAsync(
            Get("mailbox", "/users/ghost@contoso.com/events/e1"),
            Get("segment", "/groups/g1/events"),
            new JsonObject { ["id"] = "method", ["method"] = "DELETE", ["url"] = $"/users/{Mailbox}/events/e1" },
            Get("delta", $"/users/{Mailbox}/calendars/{Uri.EscapeDataString(_sim.Store.DefaultFolder(Mailbox).FolderId.Replace('/', '-').Replace('+', '_'))}/events/delta?startDateTime=1900-01-01T00:00:00Z"));
        Assert.Equal((404, "ErrorInvalidUser"), (ResponseOf(batch, "mailbox")["status"]!.GetValue<int>(), ResponseOf(batch, "mailbox")["body"]!["error"]!["code"]!.GetValue<string>()));
        Assert.Equal(400, ResponseOf(batch, "segment")["status"]!.GetValue<int>());
        Assert.Equal(405, ResponseOf(batch, "method")["status"]!.GetValue<int>());
        Assert.Equal(3, ResponseOf(batch, "delta")["body"]!["value"]!.AsArray().Count);

        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        var refused = await _http.PostAsync($"{_sim.GraphEndpoint}/$batch", new StringContent("""{"requests":[{"id":"1","method":"GET","url":"/users/alisa@contoso.com/events/e1"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
