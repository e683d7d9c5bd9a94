using ExchangeBridge.Core.Exchange;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Abstractions.Serialization;

namespace ExchangeBridge.Graph;

/// <summary>
/// <see cref="IExchangeConnector"/> over Microsoft Graph (Exchange Online) with the Graph .NET SDK and app-only tokens
/// (client credentials, <see cref="GraphTokens"/>). The mailbox is addressed as <c>/users/{mailbox}</c>; what the app may
/// read is Exchange's business (application access policies), so a refusal there reads as impersonation denied.
/// <list type="bullet">
/// <item>Calendars: <c>GET /users/{m}/calendars</c>, paged by <c>@odata.nextLink</c>.</item>
/// <item>Window: <c>GET /users/{m}/calendars/{c}/events</c> — the events collection lists single instances and series
/// masters, never occurrences — filtered to the window plus every master, ordered by start, paged by <c>$top</c>/<c>$skip</c>
/// so the offset survives a restart.</item>
/// <item>Sync: <c>GET /users/{m}/calendars/{c}/events/delta</c>, the non-expanded delta (singles and masters,
/// <c>@removed</c> for deletions); the next or delta link is the sync state. Microsoft documents this function under
/// beta; v1.0 documents only calendarView/delta, which works on the primary calendar alone and expands occurrences, so
/// it cannot track a second calendar or report series as masters. The v1.0 service and the v1.0 SDK answer events/delta
/// (with a startDateTime, which it requires in practice), so the connector uses it with a start long before any mailbox.</item>
/// <item>Events: <c>GET /users/{m}/events/{id}</c>, a master with <c>cancelledOccurrences</c> and
/// <c>$expand=exceptionOccurrences</c> (both v1.0), so a series comes back whole in one request; these GETs travel in
/// JSON batches (<c>POST /$batch</c>), 20 a batch.</item>
/// </list>
/// Every request asks <c>Prefer: outlook.timezone="UTC"</c> (instants) and a text body; an event's own zone comes from
/// <c>originalStartTimeZone</c>.
/// </summary>
public sealed class GraphConnector(HttpClient http) : IExchangeConnector
{
    /// <summary>Where the delta's startDateTime lies: before any mailbox, so every item is tracked.</summary>
    public const string DeltaStart = "1900-01-01T00:00:00Z";

    /// <summary>Graph's largest page for events.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>Graph's limit on the requests in one JSON batch.</summary>
    public const int MaxBatchRequests = 20;

    /// <summary>How many batches of one call may be in flight together.</summary>
    public const int BatchesInFlight = 4;

    private const int CalendarPageSize = 100;
    private const string PreferUtc = "outlook.timezone=\"UTC\"";
    private const string PreferText = "outlook.body-content-type=\"text\"";

    private static readonly string[] MasterProperties = [.. GraphEvents.Properties, "cancelledOccurrences", "exceptionOccurrences"];
    private static readonly string ExpandExceptions = $"exceptionOccurrences($select={string.Join(',', GraphEvents.Properties)})";

    private readonly GraphTokens _tokens = new(http);

    /// <summary>
    /// A token from the token endpoint (the app's credentials) and one authenticated request. The admin account's own
    /// mailbox may be out of the app's reach, so 403 and 404 still prove that the endpoint accepts the token.
    /// </summary>
    public Task VerifyAdminAsync(ExchangeAdminAccount admin, CancellationToken cancellationToken) =>
        CallAsync(admin, "VerifyAdmin", async client =>
        {
            try
            {
                await client.Users[admin.Username].Calendars.GetAsync(r =>
                {
                    r.QueryParameters.Top = 1;
                    r.QueryParameters.Select = ["id"];
                }, cancellationToken);
            }
            catch (ApiException e) when (e.ResponseStatusCode is 403 or 404)
            {
            }
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<ExchangeCalendarFolder>> ListCalendarFoldersAsync(
        ExchangeAdminAccount admin, string mailbox, CancellationToken cancellationToken) =>
        CallAsync<IReadOnlyList<ExchangeCalendarFolder>>(admin, "ListCalendars", async client =>
        {
            var calendars = new List<Calendar>();
            var page = await client.Users[mailbox].Calendars.GetAsync(r =>
            {
                r.QueryParameters.Select = ["id", "name", "isDefaultCalendar"];
                r.QueryParameters.Top = CalendarPageSize;
            }, cancellationToken);
            while (page is not null)
            {
                calendars.AddRange(page.Value ?? []);
                page = page.OdataNextLink is { } next
                    ? await client.Users[mailbox].Calendars.WithUrl(next).GetAsync(cancellationToken: cancellationToken)
                    : null;
            }
            // The default calendar first, as EWS lists it; a service that does not flag one has its first calendar as default.
            var defaultIndex = Math.Max(0, calendars.FindIndex(c => c.IsDefaultCalendar == true));
            return calendars
                .Select((c, i) => new ExchangeCalendarFolder(c.Id ?? throw Malformed("calendar without id"), c.Name ?? "", i == defaultIndex))
                .OrderByDescending(c => c.IsDefault)
                .ToList();
        }, cancellationToken);

    public Task<WindowPage> FindItemsInWindowAsync(ExchangeAdminAccount admin, string mailbox, string folderId, DateTimeOffset from,
        DateTimeOffset to, int offset, int maxItems, CancellationToken cancellationToken) =>
        CallAsync(admin, "ListEvents", async client =>
        {
            var page = await client.Users[mailbox].Calendars[folderId].Events.GetAsync(r =>
            {
                r.QueryParameters.Filter = WindowFilter(from, to);
                r.QueryParameters.Orderby = ["start/dateTime"];
                r.QueryParameters.Select = ["id", "changeKey"];
                r.QueryParameters.Top = Math.Clamp(maxItems, 1, MaxPageSize);
                r.QueryParameters.Skip = offset;
                r.Headers.Add("Prefer", PreferUtc);
            }, cancellationToken);
            var items = (page?.Value ?? []).Select(e => new ItemRef(e.Id ?? throw Malformed("event without id"), e.ChangeKey ?? "")).ToList();
            return new WindowPage(items, page?.OdataNextLink is null || items.Count == 0 ? null : offset + items.Count);
        }, cancellationToken);

    /// <summary>Singles and masters touching [from, to), plus every master; with UTC preferred, start/dateTime compares as UTC.</summary>
    internal static string WindowFilter(DateTimeOffset from, DateTimeOffset to) =>
        $"type eq 'seriesMaster' or (start/dateTime lt '{Utc(to)}' and end/dateTime gt '{Utc(from)}')";

    public Task<SyncPage> SyncFolderAsync(ExchangeAdminAccount admin, string mailbox, string folderId, string? syncState,
        int maxChanges, CancellationToken cancellationToken) =>
        CallAsync(admin, "EventsDelta", async client =>
        {
            var delta = client.Users[mailbox].Calendars[folderId].Events.Delta;
            var pageSize = Math.Clamp(maxChanges, 1, MaxPageSize);
            void Configure(RequestConfiguration<Microsoft.Graph.Users.Item.Calendars.Item.Events.Delta.DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters> r)
            {
                r.Headers.Add("Prefer", $"odata.maxpagesize={pageSize}");
                r.Headers.Add("Prefer", PreferUtc);
            }
            var response = syncState is null
                ? await delta.GetAsDeltaGetResponseAsync(r =>
                {
                    Configure(r);
                    r.QueryParameters.StartDateTime = DeltaStart;
                }, cancellationToken)
                : await delta.WithUrl(SameHost(admin, syncState)).GetAsDeltaGetResponseAsync(Configure, cancellationToken);

            var changed = new List<ItemRef>();
            var deleted = new List<string>();
            var seen = new HashSet<string>();
            foreach (var e in response?.Value ?? [])
            {
                var id = e.Id ?? throw Malformed("delta entry without id");
                if (e.AdditionalData.ContainsKey("@removed")) deleted.Add(id);
                // Only singles and masters are expected; an occurrence or exception stands for its series, fetched again.
                else if (e.Type is EventType.Occurrence or EventType.Exception && e.SeriesMasterId is { } master)
                {
                    if (seen.Add(master)) changed.Add(new ItemRef(master, ""));
                }
                else if (seen.Add(id)) changed.Add(new ItemRef(id, e.ChangeKey ?? ""));
            }
            var state = response?.OdataNextLink ?? response?.OdataDeltaLink ?? throw Malformed("delta page without a next or delta link");
            return new SyncPage(changed, deleted, state, IncludesLastItemInRange: response!.OdataDeltaLink is not null);
        }, cancellationToken);

    /// <summary>
    /// The items through JSON batching (<c>POST /$batch</c>, at most <see cref="MaxBatchRequests"/> GETs a batch, up to
    /// <see cref="BatchesInFlight"/> batches at once): a master comes with its cancelled occurrences and its exceptions
    /// expanded, each exception following its master, in the order of <paramref name="itemIds"/>. Each request of a batch
    /// has its own status: an item gone since it was listed (ErrorItemNotFound) is left out; any other failure fails the
    /// call as the same request sent alone would (a throttled one with its Retry-After, a 401 with one retry on a fresh token).
    /// </summary>
    public Task<IReadOnlyList<ExchangeEvent>> GetEventsAsync(
        ExchangeAdminAccount admin, string mailbox, IReadOnlyList<string> itemIds, CancellationToken cancellationToken) =>
        CallAsync<IReadOnlyList<ExchangeEvent>>(admin, "GetEvent", async client =>
        {
            var batches = itemIds.Chunk(MaxBatchRequests).ToArray();
            var fetched = new Event?[batches.Length][];
            await Parallel.ForEachAsync(Enumerable.Range(0, batches.Length),
                new ParallelOptions { MaxDegreeOfParallelism = BatchesInFlight, CancellationToken = cancellationToken },
                async (i, ct) => fetched[i] = await GetBatchAsync(client, mailbox, batches[i], ct));

            var events = new List<ExchangeEvent>(itemIds.Count);
            foreach (var item in fetched.SelectMany(batch => batch))
            {
                if (item is null) continue;
                var evt = GraphEvents.ToExchangeEvent(item);
                events.Add(evt);
                if (item.Type != EventType.SeriesMaster) continue;
                foreach (var exception in item.ExceptionOccurrences ?? [])
                {
                    var x = GraphEvents.ToExchangeEvent(exception);
                    events.Add(x with { SeriesMasterId = evt.ItemId, OriginalStart = x.OriginalStart ?? x.Start, ICalUid = x.ICalUid ?? evt.ICalUid });
                }
            }
            return events;
        }, cancellationToken);

    /// <summary>One batch of GETs, each built by the same request builder as a single call; null where the item is gone.</summary>
    private static async Task<Event?[]> GetBatchAsync(GraphServiceClient client, string mailbox, string[] itemIds, CancellationToken cancellationToken)
    {
        var batch = new BatchRequestContentCollection(client);
        var stepIds = new string[itemIds.Length];
        for (var i = 0; i < itemIds.Length; i++)
            stepIds[i] = await batch.AddBatchRequestStepAsync(client.Users[mailbox].Events[itemIds[i]].ToGetRequestInformation(r =>
            {
                r.QueryParameters.Select = MasterProperties;
                r.QueryParameters.Expand = [ExpandExceptions];
                r.Headers.Add("Prefer", PreferUtc);
                r.Headers.Add("Prefer", PreferText);
            }));
        var responses = await client.Batch.PostAsync(batch, cancellationToken);
        var statuses = await responses.GetResponsesStatusCodesAsync();

        var items = new Event?[itemIds.Length];
        for (var i = 0; i < itemIds.Length; i++)
        {
            if (!statuses.TryGetValue(stepIds[i], out var status)) throw Malformed($"$batch answer without a response for request {stepIds[i]}");
            if (BatchResponseContent.IsSuccessStatusCode(status))
            {
                items[i] = await responses.GetResponseByIdAsync<Event>(stepIds[i]);
                continue;
            }
            using var response = await responses.GetResponseByIdAsync(stepIds[i]);
            var failure = await StepFailureAsync(response, cancellationToken);
            if (GraphErrors.KindOf(failure.ResponseStatusCode, (failure as ODataError)?.Error?.Code) != ExchangeFailureKind.NotFound) throw failure;
        }
        return items;
    }

    /// <summary>
    /// A failed request of a batch as the exception the SDK throws for the same answer to a single call: an ODataError
    /// (or a bare ApiException without an error body) carrying the request's own status and headers, Retry-After among them.
    /// </summary>
    private static async Task<ApiException> StepFailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var headers = response.Headers.Concat(response.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase);
        ApiException failure = new($"HTTP {(int)response.StatusCode}");
        if (response.Content is { } content && (await content.ReadAsStreamAsync(cancellationToken)) is { Length: > 0 } body)
        {
            var root = await ParseNodeFactoryRegistry.DefaultInstance.GetRootParseNodeAsync(content.Headers.ContentType?.MediaType ?? "application/json", body, cancellationToken);
            failure = root.GetObjectValue(ODataError.CreateFromDiscriminatorValue);
        }
        failure.ResponseStatusCode = (int)response.StatusCode;
        failure.ResponseHeaders = headers;
        return failure;
    }

    /// <summary>
    /// Runs a call with a client for the admin account. A 401 may be a cached token the service no longer accepts: the call
    /// is tried once more with a fresh token, and a refusal then is the credentials'.
    /// </summary>
    private async Task<T> CallAsync<T>(ExchangeAdminAccount admin, string operation, Func<GraphServiceClient, Task<T>> call,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call(Client(admin, forceRefresh: attempt > 0));
            }
            catch (ApiException e) when (e.ResponseStatusCode == 401 && attempt == 0)
            {
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                throw GraphErrors.From(e, operation);
            }
        }
    }

    private GraphServiceClient Client(ExchangeAdminAccount admin, bool forceRefresh) =>
        new(http, new BaseBearerTokenAuthenticationProvider(new AdminTokenProvider(_tokens, admin, forceRefresh)), GraphEndpoints.BaseUrl(admin));

    /// <summary>A stored link is followed only on the endpoint's own host (else the endpoint was changed: sync anew).</summary>
    private static string SameHost(ExchangeAdminAccount admin, string link) =>
        Uri.TryCreate(link, UriKind.Absolute, out var uri) && uri.Host == admin.Endpoint.Host && uri.Port == admin.Endpoint.Port
            ? link
            : throw new ExchangeConnectorException(ExchangeFailureKind.InvalidSyncState, "Graph EventsDelta: the stored delta link is not on the admin account's endpoint");

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    private static ExchangeConnectorException Malformed(string what) => new(ExchangeFailureKind.Permanent, $"Graph answer malformed: {what}");
}
