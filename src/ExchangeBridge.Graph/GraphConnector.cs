using System.Text.Json.Serialization.Metadata;
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
/// JSON batches (<c>POST /$batch</c>), 20 a batch, one batch at a time.</item>
/// </list>
/// Ids cross the connector in EWS form (<see cref="ExchangeIds"/>): Graph's REST ids are converted where they enter and
/// leave, so a mailbox reads the same through this connector and through EWS.
/// The SDK builds every request and sends it (authentication, error models); the delta pages and batch answers, the
/// import's hot path, are read as JSON into <see cref="GraphEventJson"/> and its kin rather than into the SDK's models.
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

    /// <summary>
    /// How many batches of one call may be in flight together. Outlook allows 4 concurrent requests per app and mailbox and
    /// each request of a batch counts, so one batch of 20 already reaches the limit; a second one would only be throttled.
    /// </summary>
    public const int BatchesInFlight = 1;

    /// <summary>How many times the throttled requests of a batch are sent again, alone, after their Retry-After.</summary>
    public const int MaxStepRetries = 3;

    /// <summary>
    /// How long one call may wait, in all, for throttled requests of its batches; a longer back-off fails the call as
    /// throttled, so the job queue waits it out without holding a worker and the job's lease.
    /// </summary>
    public static readonly TimeSpan StepRetryBudget = ThrottledRetry.InPlaceBudget;

    /// <summary>The wait before a throttled request is sent again when its answer names none.</summary>
    private static readonly TimeSpan DefaultStepRetryAfter = TimeSpan.FromSeconds(1);

    private const int CalendarPageSize = 100;
    private const string PreferUtc = "outlook.timezone=\"UTC\"";
    private const string PreferText = "outlook.body-content-type=\"text\"";

    private static readonly string[] MasterProperties = [.. GraphEvents.Properties, "cancelledOccurrences", "exceptionOccurrences"];
    private static readonly string ExpandExceptions = $"exceptionOccurrences($select={string.Join(',', GraphEvents.Properties)})";
    private static readonly Dictionary<string, ParsableFactory<IParsable>> ErrorMapping = new() { ["XXX"] = ODataError.CreateFromDiscriminatorValue };

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
                .Select((c, i) => new ExchangeCalendarFolder(ExchangeIds.ToEws(c.Id ?? throw Malformed("calendar without id")), c.Name ?? "", i == defaultIndex))
                .OrderByDescending(c => c.IsDefault)
                .ToList();
        }, cancellationToken);

    public Task<WindowPage> FindItemsInWindowAsync(ExchangeAdminAccount admin, string mailbox, string folderId, DateTimeOffset from,
        DateTimeOffset to, int offset, int maxItems, CancellationToken cancellationToken) =>
        CallAsync(admin, "ListEvents", async client =>
        {
            var page = await client.Users[mailbox].Calendars[ExchangeIds.ToRest(folderId)].Events.GetAsync(r =>
            {
                r.QueryParameters.Filter = WindowFilter(from, to);
                r.QueryParameters.Orderby = ["start/dateTime"];
                r.QueryParameters.Select = ["id", "changeKey"];
                r.QueryParameters.Top = Math.Clamp(maxItems, 1, MaxPageSize);
                r.QueryParameters.Skip = offset;
                r.Headers.Add("Prefer", PreferUtc);
            }, cancellationToken);
            var items = (page?.Value ?? []).Select(e => new ItemRef(ExchangeIds.ToEws(e.Id ?? throw Malformed("event without id")), e.ChangeKey ?? "")).ToList();
            return new WindowPage(items, page?.OdataNextLink is null || items.Count == 0 ? null : offset + items.Count);
        }, cancellationToken);

    /// <summary>Singles and masters touching [from, to), plus every master; with UTC preferred, start/dateTime compares as UTC.</summary>
    internal static string WindowFilter(DateTimeOffset from, DateTimeOffset to) =>
        $"type eq 'seriesMaster' or (start/dateTime lt '{Utc(to)}' and end/dateTime gt '{Utc(from)}')";

    public Task<SyncPage> SyncFolderAsync(ExchangeAdminAccount admin, string mailbox, string folderId, string? syncState,
        int maxChanges, CancellationToken cancellationToken) =>
        CallAsync(admin, "EventsDelta", async client =>
        {
            var delta = client.Users[mailbox].Calendars[ExchangeIds.ToRest(folderId)].Events.Delta;
            var pageSize = Math.Clamp(maxChanges, 1, MaxPageSize);
            void Configure(RequestConfiguration<Microsoft.Graph.Users.Item.Calendars.Item.Events.Delta.DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters> r)
            {
                r.Headers.Add("Prefer", $"odata.maxpagesize={pageSize}");
                r.Headers.Add("Prefer", PreferUtc);
            }
            var request = syncState is null
                ? delta.ToGetRequestInformation(r =>
                {
                    Configure(r);
                    r.QueryParameters.StartDateTime = DeltaStart;
                })
                : delta.WithUrl(SameHost(admin, syncState)).ToGetRequestInformation(Configure);
            var response = await SendAsync(client, request, GraphJsonContext.Default.GraphDeltaPageJson, cancellationToken);

            var changed = new List<ItemRef>();
            var deleted = new List<string>();
            var seen = new HashSet<string>();
            foreach (var e in response.Value ?? [])
            {
                var id = ExchangeIds.ToEws(e.Id ?? throw Malformed("delta entry without id"));
                if (e.Removed is not null) deleted.Add(id);
                // Only singles and masters are expected; an occurrence or exception stands for its series, fetched again.
                else if ((IsType(e.Type, "occurrence") || IsType(e.Type, "exception")) && e.SeriesMasterId is { } restMaster)
                {
                    var master = ExchangeIds.ToEws(restMaster);
                    if (seen.Add(master)) changed.Add(new ItemRef(master, ""));
                }
                else if (seen.Add(id)) changed.Add(new ItemRef(id, e.ChangeKey ?? ""));
            }
            var state = response.NextLink ?? response.DeltaLink ?? throw Malformed("delta page without a next or delta link");
            return new SyncPage(changed, deleted, state, IncludesLastItemInRange: response.DeltaLink is not null);
        }, cancellationToken);

    /// <summary>
    /// The items through JSON batching (<c>POST /$batch</c>, at most <see cref="MaxBatchRequests"/> GETs a batch, one batch
    /// at a time): a master comes with its cancelled occurrences and its exceptions expanded, each exception following its
    /// master, in the order of <paramref name="itemIds"/>. Each request of a batch has its own status: an item gone since it
    /// was listed (ErrorItemNotFound) is left out; a throttled request (429, 503) is sent again alone after its Retry-After,
    /// at most <see cref="MaxStepRetries"/> times and within <see cref="StepRetryBudget"/>, then fails the call as throttled;
    /// any other failure fails the call as the same request sent alone would (a 401 with one retry on a fresh token).
    /// </summary>
    public Task<IReadOnlyList<ExchangeEvent>> GetEventsAsync(
        ExchangeAdminAccount admin, string mailbox, IReadOnlyList<string> itemIds, CancellationToken cancellationToken) =>
        // Not CallAsync: the batches send their own throttled requests again, alone; a batch that gives up has spent its wait.
        CallOnceAsync<IReadOnlyList<ExchangeEvent>>(admin, "GetEvent", async client =>
        {
            var fetched = new List<GraphEventJson?>(itemIds.Count);
            var retryBudget = StepRetryBudget;
            foreach (var batch in itemIds.Chunk(MaxBatchRequests)) // one after the other: BatchesInFlight
            {
                var (items, waited) = await GetBatchAsync(client, mailbox, batch, retryBudget, cancellationToken);
                fetched.AddRange(items);
                retryBudget -= waited;
            }

            var events = new List<ExchangeEvent>(itemIds.Count);
            foreach (var item in fetched)
            {
                if (item is null) continue;
                var evt = WithEwsIds(GraphEvents.ToExchangeEvent(item));
                events.Add(evt);
                if (!IsType(item.Type, "seriesMaster")) continue;
                foreach (var exception in item.ExceptionOccurrences ?? [])
                {
                    var x = WithEwsIds(GraphEvents.ToExchangeEvent(exception));
                    events.Add(x with { SeriesMasterId = evt.ItemId, OriginalStart = x.OriginalStart ?? x.Start, ICalUid = x.ICalUid ?? evt.ICalUid });
                }
            }
            return events;
        }, cancellationToken);

    /// <summary>
    /// One batch of GETs, each built by the same request builder as a single call; null where the item is gone. Throttled
    /// requests go again in a batch of their own after the longest Retry-After among them, while the budget lasts.
    /// </summary>
    private static async Task<(GraphEventJson?[] Items, TimeSpan Waited)> GetBatchAsync(GraphServiceClient client, string mailbox,
        string[] itemIds, TimeSpan retryBudget, CancellationToken cancellationToken)
    {
        var items = new GraphEventJson?[itemIds.Length];
        var pending = Enumerable.Range(0, itemIds.Length).ToList();
        var waited = TimeSpan.Zero;
        for (var attempt = 0; ; attempt++)
        {
            // One batch's content, as BatchRequestContentCollection builds each of its own under the same pragma: the
            // collection would post it through the SDK's answer parsing, which this connector reads as JSON itself.
#pragma warning disable CS0618
            var batch = new BatchRequestContent(client);
            var indexOfStep = new Dictionary<string, int>(pending.Count);
            foreach (var i in pending)
                indexOfStep[await batch.AddBatchRequestStepAsync(client.Users[mailbox].Events[ExchangeIds.ToRest(itemIds[i])].ToGetRequestInformation(r =>
                {
                    r.QueryParameters.Select = MasterProperties;
                    r.QueryParameters.Expand = [ExpandExceptions];
                    r.Headers.Add("Prefer", PreferUtc);
                    r.Headers.Add("Prefer", PreferText);
                }))] = i;
#pragma warning restore CS0618
            var answer = await SendAsync(client, await client.Batch.ToPostRequestInformationAsync(batch, cancellationToken),
                GraphJsonContext.Default.GraphBatchJson, cancellationToken);
            var steps = new Dictionary<string, GraphBatchStepJson>(indexOfStep.Count);
            foreach (var step in answer.Responses ?? [])
                if (step.Id is { } id) steps[id] = step;

            var throttled = new List<(int Index, ApiException Failure, TimeSpan RetryAfter)>();
            foreach (var (stepId, i) in indexOfStep)
            {
                if (!steps.TryGetValue(stepId, out var step)) throw Malformed($"$batch answer without a response for request {stepId}");
                if (step.Status is >= 200 and < 300)
                {
                    items[i] = step.Body ?? throw Malformed($"$batch answer without a body for request {stepId}");
                    continue;
                }
                var failure = StepFailure(step);
                switch (GraphErrors.KindOf(step.Status, step.Body?.Error?.Code))
                {
                    case ExchangeFailureKind.NotFound: continue;
                    case ExchangeFailureKind.Throttled:
                        throttled.Add((i, failure, GraphErrors.RetryAfter(failure.ResponseHeaders) ?? DefaultStepRetryAfter));
                        continue;
                    default: throw failure;
                }
            }
            if (throttled.Count == 0) return (items, waited);

            var longest = throttled.MaxBy(t => t.RetryAfter);
            if (attempt == MaxStepRetries || waited + longest.RetryAfter > retryBudget) throw longest.Failure;
            await Task.Delay(longest.RetryAfter, cancellationToken);
            waited += longest.RetryAfter;
            pending = [.. throttled.Select(t => t.Index)];
        }
    }

    /// <summary>
    /// A failed request of a batch as the exception the SDK throws for the same answer to a single call: an ODataError
    /// (or a bare ApiException without an error body) carrying the request's own status and headers, Retry-After among them.
    /// </summary>
    private static ApiException StepFailure(GraphBatchStepJson step)
    {
        var headers = new Dictionary<string, IEnumerable<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in step.Headers ?? []) headers[name] = [value];
        ApiException failure = step.Body?.Error is { } error
            ? new ODataError { Error = new MainError { Code = error.Code, Message = error.Message } }
            : new ApiException($"HTTP {step.Status}");
        failure.ResponseStatusCode = step.Status;
        failure.ResponseHeaders = headers;
        return failure;
    }

    /// <summary>A request sent by the SDK (its authentication and error models), its answer read as JSON into <paramref name="type"/>.</summary>
    private static async Task<T> SendAsync<T>(GraphServiceClient client, RequestInformation request, JsonTypeInfo<T> type,
        CancellationToken cancellationToken)
    {
        await using var body = await client.RequestAdapter.SendPrimitiveAsync<Stream>(request, ErrorMapping, cancellationToken)
                               ?? throw Malformed("an empty answer");
        return await GraphJsonContext.ReadAsync(body, type, cancellationToken);
    }

    /// <summary>An event read from Graph named as the connector contract names it: its own and its series' ids in EWS form.</summary>
    private static ExchangeEvent WithEwsIds(ExchangeEvent e) =>
        e with { ItemId = ExchangeIds.ToEws(e.ItemId), SeriesMasterId = e.SeriesMasterId is { } master ? ExchangeIds.ToEws(master) : null };

    private static bool IsType(string? type, string expected) => string.Equals(type, expected, StringComparison.OrdinalIgnoreCase);

    /// <summary>A call, made again in place after a short back-off (<see cref="ThrottledRetry"/>).</summary>
    private Task<T> CallAsync<T>(ExchangeAdminAccount admin, string operation, Func<GraphServiceClient, Task<T>> call,
        CancellationToken cancellationToken) =>
        ThrottledRetry.RunAsync(() => CallOnceAsync(admin, operation, call, cancellationToken), cancellationToken);

    /// <summary>
    /// Runs a call with a client for the admin account. A 401 may be a cached token the service no longer accepts: the call
    /// is tried once more with a fresh token, and a refusal then is the credentials'.
    /// </summary>
    private async Task<T> CallOnceAsync<T>(ExchangeAdminAccount admin, string operation, Func<GraphServiceClient, Task<T>> call,
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
