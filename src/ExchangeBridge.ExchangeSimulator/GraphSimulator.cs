using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ExchangeBridge.ExchangeSimulator;

/// <summary>
/// Serves the Microsoft Graph calls ExchangeBridge's Graph connector makes, over the same <see cref="MailboxStore"/> the
/// EWS simulator serves, shaped like Microsoft's documented responses (<c>@odata.context</c>, <c>value</c>,
/// <c>@odata.nextLink</c>/<c>@odata.deltaLink</c>, <c>@removed</c>, <c>{"error":{"code","message"}}</c>): the
/// client-credentials token endpoint (client secret or certificate assertion), calendars, the events collection with <c>$filter</c>/<c>$orderby</c>/<c>$top</c>/<c>$skip</c>,
/// events delta, and one event with <c>cancelledOccurrences</c> and <c>exceptionOccurrences</c>. Times are always UTC
/// (what the connector asks with <c>Prefer: outlook.timezone="UTC"</c>). It is a simulator for tests and demos, not Graph.
/// </summary>
public static partial class GraphSimulator
{
    public const string Version = "v1.0";
    private const int DefaultPageSize = 10;
    private const string ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private const int MaxPageSize = 1000;
    private static readonly string[] AllDays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

    /// <summary>The resources served under <c>/v1.0</c>: mapped as routes, and matched again for each request of a <c>$batch</c>.</summary>
    private static readonly GraphRoute[] Routes =
    [
        new("users/{user}/calendars", (c, s, r) => Serve(c, s, r.Text("user"), m => Calendars(c, m))),
        new("users/{user}/calendars/{calendarId}/events", (c, s, r) => Serve(c, s, r.Text("user"), m => Events(c, m, FolderIdOf(m, r.Text("calendarId"))))),
        new("users/{user}/calendars/{calendarId}/events/{function}", (c, s, r) => Serve(c, s, r.Text("user"), m =>
            r.Text("function") is "delta" or "delta()" ? Delta(c, m, FolderIdOf(m, r.Text("calendarId"))) : Error(400, "BadRequest", $"Unsupported segment '{r.Text("function")}'."))),
        new("users/{user}/events/{eventId}", (c, s, r) => Serve(c, s, r.Text("user"), m => GetEvent(c, m, r.Text("eventId")))),
    ];

    public static RouteGroupBuilder MapGraphSimulator(this IEndpointRouteBuilder app, MailboxStore store)
    {
        app.MapPost("/{tenant}/oauth2/v2.0/token", (HttpContext context, string tenant) => TokenAsync(context, store, tenant))
            .WithName("GraphSimulatorToken").WithSummary("Client-credentials token endpoint (simulator)");
        var graph = app.MapGroup($"/{Version}");
        foreach (var route in Routes) graph.MapGet($"/{route.Template}", (HttpContext c) => route.Handle(c, store, c.Request.RouteValues));
        graph.MapPost("/$batch", (Func<HttpContext, Task<IResult>>)(c => BatchAsync(c, store))).WithName("GraphSimulatorBatch").WithSummary("JSON batching (simulator)");
        return graph;
    }

    private static async Task<IResult> TokenAsync(HttpContext context, MailboxStore store, string tenant)
    {
        if (!context.Request.HasFormContentType) return AadError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.");
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["grant_type"] != "client_credentials")
            return AadError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
        if (!store.IsKnownTenant(tenant))
            return AadError(400, "invalid_request", 90002, $"Tenant '{tenant}' not found.");
        var app = store.GraphAppOf(tenant, form["client_id"].ToString());
        if (app is null)
            return AadError(400, "unauthorized_client", 700016, $"Application with identifier '{form["client_id"]}' was not found in the directory '{tenant}'.");
        if (form["client_assertion"].ToString() is { Length: > 0 } assertion)
        {
            if (form["client_assertion_type"] != ClientAssertionType)
                return AadError(400, "invalid_request", 90014, "The request body must contain the following parameter: 'client_assertion_type'.");
            var endpoint = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{context.Request.Path}";
            if (GraphClientAssertion.Check(assertion, app, endpoint, DateTimeOffset.UtcNow) is { } refusal)
                return AadError(401, "invalid_client", refusal.Code, refusal.Description);
        }
        else if (!MailboxStore.SecretMatches(app, form["client_secret"].ToString()))
            return AadError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.");
        if (!form["scope"].ToString().EndsWith("/.default", StringComparison.Ordinal))
            return AadError(400, "invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.");
        return Results.Json(new JsonObject
        {
            ["token_type"] = "Bearer", ["expires_in"] = (int)MailboxStore.GraphTokenLifetime.TotalSeconds,
            ["ext_expires_in"] = (int)MailboxStore.GraphTokenLifetime.TotalSeconds, ["access_token"] = store.IssueGraphToken(app),
        });
    }

    /// <summary>
    /// Authentication, then Outlook's limits for the app and mailbox (a concurrent request holds its slot until its answer
    /// is written), the injected throttling, then the mailbox and the app's right to it, as Graph checks them.
    /// </summary>
    private static IResult Serve(HttpContext context, MailboxStore store, string user, Func<SimMailbox, IResult> handle)
    {
        if (Caller(context, store) is not { } app) return Unauthenticated(context);
        var throttle = store.Throttle;
        var slot = throttle.EnterGraph(app.ClientId, user);
        if (slot is null) return Throttled(context, (long)throttle.Policy.GraphConcurrencyRetryAfter.TotalMilliseconds);
        if (throttle.ChargeGraph(app.ClientId, user) is { } overBudget)
        {
            slot.Dispose();
            return TooManyRequests(context, overBudget);
        }
        return new HoldingSlot(ServeAdmitted(context, store, app, user, handle), slot, throttle);
    }

    private static IResult ServeAdmitted(HttpContext context, MailboxStore store, GraphApp app, string user, Func<SimMailbox, IResult> handle)
    {
        if (store.TakeBusy(out var backOffMs)) return Throttled(context, backOffMs);
        if (store.TakeFault(user, out var fault, out var faultBackOffMs)) return InjectedFault(context, fault, faultBackOffMs);
        var mailbox = store.Mailbox(user);
        if (mailbox is null) return Error(404, "ErrorInvalidUser", $"The requested user '{user}' is invalid.");
        if (!app.MayRead(mailbox.Address)) return Error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
        try
        {
            return handle(mailbox);
        }
        catch (FormatException e)
        {
            return Error(400, "BadRequest", $"Invalid request: {e.Message}");
        }
    }

    private static IResult Throttled(HttpContext context, long backOffMs)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(backOffMs / 1000.0)).ToString(CultureInfo.InvariantCulture);
        return Error(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.");
    }

    /// <summary>
    /// Over the app's request budget for the mailbox: Microsoft's documented sample answer (learn.microsoft.com/graph/throttling,
    /// "Sample response"), its Retry-After in seconds with a fraction as that sample has ("2.128").
    /// </summary>
    private static IResult TooManyRequests(HttpContext context, TimeSpan retryAfter)
    {
        context.Response.Headers.RetryAfter = Math.Max(0.001, retryAfter.TotalSeconds).ToString("0.###", CultureInfo.InvariantCulture);
        return Results.Json(new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = "TooManyRequests",
                ["innerError"] = new JsonObject
                {
                    ["code"] = "429", ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture),
                    ["message"] = "Please retry after", ["request-id"] = Guid.NewGuid().ToString(), ["status"] = "429",
                },
                ["message"] = "Please retry again later.",
            },
        }, statusCode: StatusCodes.Status429TooManyRequests);
    }

    /// <summary>
    /// An admitted request's answer, given after Exchange's service time; its concurrency slot is free once the answer is
    /// written (or abandoned).
    /// </summary>
    private sealed class HoldingSlot(IResult inner, IDisposable slot, ExchangeThrottle throttle) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            using (slot)
            {
                // Released as the answer starts (see EwsSimulator): the client may send its next request once it has read it.
                httpContext.Response.OnStarting(static s => { ((IDisposable)s).Dispose(); return Task.CompletedTask; }, slot);
                await throttle.ServeGraphAsync(httpContext.RequestAborted);
                await inner.ExecuteAsync(httpContext);
            }
        }
    }

    /// <summary>An outage of the mailbox (<see cref="MailboxStore.InjectFault"/>), as Graph's documented status codes.</summary>
    private static IResult InjectedFault(HttpContext context, SimFault fault, long backOffMs) => fault switch
    {
        SimFault.ServerBusy => Throttled(context, backOffMs),
        SimFault.InternalServerError => Error(500, "generalException", "An unspecified error has occurred."),
        SimFault.Refuse => new DroppedConnection(),
        _ => new HangingAnswer(),
    };

    private sealed class DroppedConnection : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Abort();
            return Task.CompletedTask;
        }
    }

    private sealed class HangingAnswer : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => MailboxStore.HangAsync(httpContext.RequestAborted);
    }

    /// <summary>The app the request's bearer token was issued to, while the token is valid.</summary>
    private static GraphApp? Caller(HttpContext context, MailboxStore store)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? store.GraphCaller(header[7..].Trim()) : null;
    }

    private static IResult Unauthenticated(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";
        return Error(401, "InvalidAuthenticationToken", context.Request.Headers.Authorization.ToString().Length == 0 ? "Access token is empty." : "Access token validation failure. Invalid audience.");
    }

    private static IResult Calendars(HttpContext context, SimMailbox mailbox)
    {
        var (skip, top) = Paging(context, DefaultPageSize);
        var all = mailbox.Folders.Values.OrderByDescending(f => f.IsDefault).ThenBy(f => f.DisplayName, StringComparer.Ordinal).ToList();
        var page = all.Skip(skip).Take(top).Select(f => Select(context, new JsonObject
        {
            ["@odata.id"] = $"{Base(context)}/users('{mailbox.Address}')/calendars('{RestId(f.FolderId)}')",
            ["id"] = RestId(f.FolderId), ["name"] = f.DisplayName, ["color"] = "auto", ["hexColor"] = "", ["isDefaultCalendar"] = f.IsDefault,
            ["changeKey"] = "nfZyf7VcrEKLNoU37KWlkQAAA0x0+w==", ["canShare"] = true, ["canViewPrivateItems"] = true, ["canEdit"] = true,
            ["allowedOnlineMeetingProviders"] = new JsonArray("teamsForBusiness"), ["defaultOnlineMeetingProvider"] = "teamsForBusiness",
            ["isTallyingResponses"] = true, ["isRemovable"] = !f.IsDefault,
            ["owner"] = new JsonObject { ["name"] = mailbox.Address, ["address"] = mailbox.Address },
        })).ToList();
        return Collection(context, $"users('{mailbox.Address}')/calendars", page, skip + page.Count < all.Count ? NextSkip(context, skip + page.Count) : null);
    }

    private static IResult Events(HttpContext context, SimMailbox mailbox, string calendarId)
    {
        if (!mailbox.Folders.TryGetValue(calendarId, out var folder)) return ItemNotFound();
        var (skip, top) = Paging(context, DefaultPageSize);
        var filter = context.Request.Query["$filter"].ToString();
        var predicate = filter.Length == 0 ? null : ODataFilter.Parse(filter);
        List<SimCalendarItem> matching;
        lock (folder.Gate)
        {
            var key = "graph:" + filter;
            if (folder.LastQuery is { } last && last.Restriction == key && last.Sequence == folder.Sequence) matching = last.Items;
            else
            {
                matching = folder.Items.Values.Where(i => predicate is null || predicate(i))
                    .OrderBy(i => i.Start).ThenBy(i => i.ItemId, StringComparer.Ordinal).ToList();
                folder.LastQuery = (key, folder.Sequence, matching);
            }
        }
        var page = matching.Skip(skip).Take(top).Select(i => Select(context, EventJson(context, mailbox, i))).ToList();
        return Collection(context, $"users('{mailbox.Address}')/calendars('{RestId(calendarId)}')/events", page,
            skip + page.Count < matching.Count ? NextSkip(context, skip + page.Count) : null);
    }

    /// <summary>
    /// Changes since a delta or skip token, oldest first, at most <c>Prefer: odata.maxpagesize</c> (default 100) per page;
    /// an item created and deleted since the token is not reported. Tokens of an older epoch
    /// (<see cref="MailboxStore.InvalidateSyncStates"/>) or not issued here answer 410 SyncStateNotFound.
    /// </summary>
    private static IResult Delta(HttpContext context, SimMailbox mailbox, string calendarId)
    {
        if (!mailbox.Folders.TryGetValue(calendarId, out var folder)) return ItemNotFound();
        var token = context.Request.Query["$deltatoken"].FirstOrDefault() ?? context.Request.Query["$skiptoken"].FirstOrDefault();
        long since = 0;
        if (token is not null && !TryDecodeState(token, folder, out since))
            return Error(410, "SyncStateNotFound", "The sync state generation is not valid or has expired; restart the synchronization.");
        if (token is null && context.Request.Query["startDateTime"].Count == 0)
            return Error(400, "ErrorInvalidParameter", "The value '' of parameter 'StartDateTime' is invalid.");
        var max = PreferredPageSize(context) ?? 100;

        var entries = new List<JsonObject>();
        long last = since;
        bool complete;
        lock (folder.Gate)
        {
            var seen = new HashSet<string>();
            var index = folder.FirstChangeAfter(since);
            for (; index < folder.Changes.Count && seen.Count < max; index++)
            {
                var (sequence, itemId) = folder.Changes[index];
                last = sequence;
                if (!seen.Add(itemId)) continue;
                if (folder.Items.TryGetValue(itemId, out var item))
                    entries.Add(new JsonObject { ["@odata.type"] = "#microsoft.graph.event" }.Merge(EventJson(context, mailbox, item)));
                else if (folder.CreatedAt[itemId] <= since)
                    entries.Add(new JsonObject
                    {
                        ["@odata.type"] = "#microsoft.graph.event", ["id"] = RestId(itemId), ["@removed"] = new JsonObject { ["reason"] = "deleted" },
                    });
            }
            complete = index >= folder.Changes.Count;
        }
        var link = $"{Base(context)}/users/{Uri.EscapeDataString(mailbox.Address)}/calendars/{Uri.EscapeDataString(RestId(calendarId))}/events/delta" +
                   $"?{(complete ? "$deltatoken" : "$skiptoken")}={Uri.EscapeDataString(EncodeState(folder, last))}";
        var body = new JsonObject { ["@odata.context"] = $"{Base(context)}/$metadata#Collection(event)" };
        body[complete ? "@odata.deltaLink" : "@odata.nextLink"] = link;
        body["value"] = new JsonArray([.. entries]);
        return Results.Json(body);
    }

    private static IResult GetEvent(HttpContext context, SimMailbox mailbox, string eventId)
    {
        var (item, exception) = MailboxStore.FindItemById(mailbox, eventId);
        if (item is null && FromRestId(eventId) is var ewsId && ewsId != eventId) (item, exception) = MailboxStore.FindItemById(mailbox, ewsId);
        if (item is null) return ItemNotFound();
        var json = exception is null ? EventJson(context, mailbox, item) : ExceptionJson(context, mailbox, item, exception);
        if (exception is null && item.Recurrence is not null)
        {
            var zone = Zone(item.TimeZoneId);
            json["cancelledOccurrences"] = new JsonArray([.. item.DeletedOccurrences.Select(d =>
                (JsonNode)$"OID.{RestId(item.ItemId)}.{TimeZoneInfo.ConvertTime(d, zone):yyyy-MM-dd}")]);
            if (Expands(context, "exceptionOccurrences"))
                json["exceptionOccurrences"] = new JsonArray([.. item.Exceptions.Select(x => (JsonNode)ExceptionJson(context, mailbox, item, x))]);
        }
        json["@odata.context"] = $"{Base(context)}/$metadata#users('{mailbox.Address}')/events/$entity";
        return Results.Json(Select(context, json, keep: ["@odata.context", "exceptionOccurrences"]));
    }

    /// <summary>An event resource as Graph writes it, times in UTC.</summary>
    private static JsonObject EventJson(HttpContext context, SimMailbox mailbox, SimCalendarItem item)
    {
        var text = WantsText(context);
        var body = item.Body ?? "";
        return new JsonObject
        {
            ["@odata.etag"] = $"W/\"{item.ChangeKey}\"",
            ["id"] = RestId(item.ItemId),
            ["createdDateTime"] = Iso(item.Created),
            ["lastModifiedDateTime"] = Iso(item.LastModified),
            ["changeKey"] = item.ChangeKey,
            ["categories"] = new JsonArray(),
            ["transactionId"] = null,
            ["originalStartTimeZone"] = GraphZone(item.TimeZoneId, item.CustomTimeZoneRulesXml),
            ["originalEndTimeZone"] = item.EndTimeZoneId ?? GraphZone(item.TimeZoneId, item.CustomTimeZoneRulesXml),
            ["iCalUId"] = item.Uid ?? item.ItemId,
            ["reminderMinutesBeforeStart"] = item.ReminderMinutes ?? 0,
            ["isReminderOn"] = item.ReminderMinutes is not null,
            ["hasAttachments"] = false,
            ["subject"] = item.Subject,
            ["bodyPreview"] = body.Length > 255 ? body[..255] : body,
            ["importance"] = "normal",
            ["sensitivity"] = item.Sensitivity.ToLowerInvariant(),
            ["isAllDay"] = item.IsAllDay,
            ["isCancelled"] = item.IsCancelled,
            ["isOrganizer"] = item.MyResponse == "Organizer",
            ["responseRequested"] = true,
            ["seriesMasterId"] = null,
            ["showAs"] = ShowAs(item.FreeBusy),
            ["type"] = item.Recurrence is null ? "singleInstance" : "seriesMaster",
            ["webLink"] = $"https://outlook.office365.com/owa/?itemid={Uri.EscapeDataString(item.ItemId)}&exvsurl=1&path=/calendar/item",
            ["onlineMeetingUrl"] = null,
            ["isOnlineMeeting"] = item.OnlineMeetingUrl is not null,
            ["onlineMeetingProvider"] = item.OnlineMeetingUrl is null ? "unknown" : "teamsForBusiness",
            ["allowNewTimeProposals"] = true,
            ["isDraft"] = false,
            ["hideAttendees"] = false,
            ["responseStatus"] = new JsonObject { ["response"] = Response(item.MyResponse), ["time"] = "0001-01-01T00:00:00Z" },
            ["body"] = new JsonObject
            {
                ["contentType"] = text ? "text" : "html",
                ["content"] = text ? body : $"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>{System.Net.WebUtility.HtmlEncode(body)}</body></html>",
            },
            ["start"] = DateTimeTimeZone(item.Start),
            ["end"] = DateTimeTimeZone(item.End),
            ["location"] = Location(item.Location),
            ["locations"] = item.Location is null ? new JsonArray() : new JsonArray(Location(item.Location)),
            ["recurrence"] = item.Recurrence is { } r ? Recurrence(r, GraphZone(item.TimeZoneId, item.CustomTimeZoneRulesXml)) : null,
            ["attendees"] = new JsonArray([.. item.Attendees.Select(a => (JsonNode)new JsonObject
            {
                ["type"] = a.Optional ? "optional" : "required",
                ["status"] = new JsonObject { ["response"] = Response(a.Response), ["time"] = "0001-01-01T00:00:00Z" },
                ["emailAddress"] = Address(a.Name, a.Email),
            })]),
            ["organizer"] = item.Organizer is { } o ? new JsonObject { ["emailAddress"] = Address(o.Name, o.Email) } : null,
            ["onlineMeeting"] = item.OnlineMeetingUrl is null ? null : new JsonObject { ["joinUrl"] = item.OnlineMeetingUrl },
        };
    }

    private static JsonObject ExceptionJson(HttpContext context, SimMailbox mailbox, SimCalendarItem master, SimException exception)
    {
        var json = EventJson(context, mailbox, master with
        {
            ItemId = exception.ItemId, Subject = exception.Subject, Start = exception.Start, End = exception.End,
            Location = exception.Location ?? master.Location, Recurrence = null, Exceptions = [], DeletedOccurrences = [],
        });
        var changeKey = Convert.ToBase64String(Encoding.UTF8.GetBytes($"ck:{exception.ItemId}:{exception.Version}"));
        json["@odata.etag"] = $"W/\"{changeKey}\"";
        json["changeKey"] = changeKey;
        json["type"] = "exception";
        json["seriesMasterId"] = RestId(master.ItemId);
        json["originalStart"] = Iso(exception.OriginalStart);
        json["iCalUId"] = master.Uid ?? master.ItemId;
        return json;
    }

    /// <summary>EWS's Recurrence (pattern and range elements) as Graph's patternedRecurrence.</summary>
    private static JsonObject Recurrence(SimRecurrence recurrence, string timeZoneId)
    {
        XNamespace t = "http://schemas.microsoft.com/exchange/services/2006/types";
        var root = XElement.Parse($"<t:Recurrence xmlns:t=\"{t}\">{recurrence.PatternXml}{recurrence.RangeXml}</t:Recurrence>");
        var elements = root.Elements().ToList();
        var p = elements[0];
        var r = elements[1];
        string? Value(XElement e, string name) => e.Element(t + name)?.Value;
        var days = (Value(p, "DaysOfWeek") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).SelectMany(d => d switch
        {
            "Day" => AllDays,
            "Weekday" => AllDays[1..6],
            "WeekendDay" => ["saturday", "sunday"],
            _ => [d.ToLowerInvariant()],
        }).Distinct().ToList();
        var month = Value(p, "Month") is { } name ? DateTime.ParseExact(name, "MMMM", CultureInfo.InvariantCulture).Month : 0;
        var pattern = new JsonObject
        {
            ["type"] = p.Name.LocalName switch
            {
                "DailyRecurrence" => "daily", "WeeklyRecurrence" => "weekly", "AbsoluteMonthlyRecurrence" => "absoluteMonthly",
                "RelativeMonthlyRecurrence" => "relativeMonthly", "AbsoluteYearlyRecurrence" => "absoluteYearly",
                "RelativeYearlyRecurrence" => "relativeYearly", var other => throw new FormatException($"pattern {other}"),
            },
            ["interval"] = int.Parse(Value(p, "Interval") ?? "1", CultureInfo.InvariantCulture),
            ["month"] = month,
            ["dayOfMonth"] = int.Parse(Value(p, "DayOfMonth") ?? "0", CultureInfo.InvariantCulture),
            ["daysOfWeek"] = new JsonArray([.. days.Select(d => (JsonNode)d)]),
            ["firstDayOfWeek"] = (Value(p, "FirstDayOfWeek") ?? "Sunday").ToLowerInvariant(),
            ["index"] = (Value(p, "DayOfWeekIndex") ?? "First").ToLowerInvariant(),
        };
        var range = new JsonObject
        {
            ["type"] = r.Name.LocalName switch
            {
                "EndDateRecurrence" => "endDate", "NumberedRecurrence" => "numbered", _ => "noEnd",
            },
            ["startDate"] = Value(r, "StartDate")?[..10],
            ["endDate"] = Value(r, "EndDate")?[..10] ?? "0001-01-01",
            ["recurrenceTimeZone"] = timeZoneId,
            ["numberOfOccurrences"] = int.Parse(Value(r, "NumberOfOccurrences") ?? "0", CultureInfo.InvariantCulture),
        };
        return new JsonObject { ["pattern"] = pattern, ["range"] = range };
    }

    private static IResult Collection(HttpContext context, string path, List<JsonObject> items, string? nextLink)
    {
        var body = new JsonObject { ["@odata.context"] = $"{Base(context)}/$metadata#{path}" };
        if (nextLink is not null) body["@odata.nextLink"] = nextLink;
        body["value"] = new JsonArray([.. items]);
        return Results.Json(body);
    }

    /// <summary>$select keeps the named properties (and the OData annotations, as Graph does).</summary>
    private static JsonObject Select(HttpContext context, JsonObject json, string[]? keep = null)
    {
        var select = context.Request.Query["$select"].ToString();
        if (select.Length == 0) return json;
        var wanted = select.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var name in json.Select(p => p.Key).ToList())
            if (!name.StartsWith('@') && name != "id" && !wanted.Contains(name) && keep?.Contains(name) != true) json.Remove(name);
        return json;
    }

    private static JsonObject Merge(this JsonObject target, JsonObject source)
    {
        foreach (var name in source.Select(p => p.Key).ToList())
        {
            var value = source[name];
            source.Remove(name);
            target[name] = value;
        }
        return target;
    }

    private static bool Expands(HttpContext context, string navigation) =>
        context.Request.Query["$expand"].ToString().Split(',').Any(e => e.Trim().StartsWith(navigation, StringComparison.OrdinalIgnoreCase));

    private static bool WantsText(HttpContext context) =>
        context.Request.Headers["Prefer"].Any(p => p?.Contains("outlook.body-content-type=\"text\"", StringComparison.OrdinalIgnoreCase) == true);

    private static int? PreferredPageSize(HttpContext context)
    {
        foreach (var preference in context.Request.Headers["Prefer"].SelectMany(p => (p ?? "").Split(',')))
        {
            var parts = preference.Trim().Split('=', 2);
            if (parts is ["odata.maxpagesize", var size] && int.TryParse(size, CultureInfo.InvariantCulture, out var n)) return Math.Clamp(n, 1, MaxPageSize);
        }
        return null;
    }

    private static (int Skip, int Top) Paging(HttpContext context, int defaultTop)
    {
        var skip = int.TryParse(context.Request.Query["$skip"], CultureInfo.InvariantCulture, out var s) ? Math.Max(0, s) : 0;
        var top = int.TryParse(context.Request.Query["$top"], CultureInfo.InvariantCulture, out var t) ? Math.Clamp(t, 1, MaxPageSize) : defaultTop;
        return (skip, top);
    }

    /// <summary>The request's own URL with $skip moved on, as Graph builds its next links.</summary>
    private static string NextSkip(HttpContext context, int skip)
    {
        var query = context.Request.Query.Where(q => q.Key != "$skip")
            .Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value.ToString())}")
            .Append($"%24skip={skip}");
        return $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{context.Request.Path}?{string.Join('&', query)}";
    }

    /// <summary>
    /// Graph names items and folders by REST ids: the EWS id made URL-safe, '/' written '-' and '+' written '_' (what
    /// Office.js's convertToRestId does), so a path never carries an encoded slash. A test's readable ids ("series-x1")
    /// have neither character and are their own REST id; an id that names nothing as given is read back as REST.
    /// </summary>
    private static string RestId(string ewsId) => ewsId.Replace('/', '-').Replace('+', '_');

    private static string FromRestId(string restId) => restId.Replace('-', '/').Replace('_', '+');

    private static string FolderIdOf(SimMailbox mailbox, string calendarId) =>
        mailbox.Folders.ContainsKey(calendarId) ? calendarId : FromRestId(calendarId);

    private static string Base(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}/{Version}";

    private static string EncodeState(SimFolder folder, long sequence) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"simg\n{folder.FolderId}\n{folder.Epoch}\n{sequence}"));

    private static bool TryDecodeState(string state, SimFolder folder, out long sequence)
    {
        sequence = 0;
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(state)).Split('\n');
            return parts is ["simg", var folderId, var epoch, var seq] && folderId == folder.FolderId &&
                   epoch == folder.Epoch.ToString(CultureInfo.InvariantCulture) && long.TryParse(seq, CultureInfo.InvariantCulture, out sequence);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static JsonObject DateTimeTimeZone(DateTimeOffset at) => new()
    {
        ["dateTime"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture), ["timeZone"] = "UTC",
    };

    private static JsonObject Location(string? name) => name is null
        ? new JsonObject { ["displayName"] = "", ["locationType"] = "default", ["uniqueIdType"] = "unknown" }
        : new JsonObject { ["displayName"] = name, ["locationType"] = "default", ["uniqueId"] = name, ["uniqueIdType"] = "private" };

    /// <summary>An emailAddress; the name only when the store knows one (as EWS leaves Name out).</summary>
    private static JsonObject Address(string? name, string email) =>
        name is null ? new JsonObject { ["address"] = email } : new JsonObject { ["name"] = name, ["address"] = email };

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static TimeZoneInfo Zone(string windowsOrIana) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(windowsOrIana, out var zone) ? zone : TimeZoneInfo.Utc;

    /// <summary>The zone as Graph names it: a legacy custom zone has no rules in Graph, only this name (the event resource's docs).</summary>
    private static string GraphZone(string timeZoneId, string? customRulesXml) => customRulesXml is null ? timeZoneId : "tzone://Microsoft/Custom";

    /// <summary>LegacyFreeBusyStatus as showAs.</summary>
    private static string ShowAs(string freeBusy) => freeBusy switch
    {
        "Free" => "free", "Tentative" => "tentative", "OOF" => "oof", "WorkingElsewhere" => "workingElsewhere", "NoData" => "unknown", _ => "busy",
    };

    /// <summary>EWS ResponseType as Graph's responseType.</summary>
    private static string Response(string response) => response switch
    {
        "Accept" => "accepted", "Tentative" => "tentativelyAccepted", "Decline" => "declined", "Organizer" => "organizer",
        "NoResponseReceived" => "notResponded", _ => "none",
    };

    private static IResult ItemNotFound() => Error(404, "ErrorItemNotFound", "The specified object was not found in the store.");

    private static IResult Error(int status, string code, string message) => Results.Json(new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["code"] = code, ["message"] = message,
            ["innerError"] = new JsonObject
            {
                ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture),
                ["request-id"] = Guid.NewGuid().ToString(), ["client-request-id"] = Guid.NewGuid().ToString(),
            },
        },
    }, statusCode: status);

    private static IResult AadError(int status, string error, int code, string description) => Results.Json(new JsonObject
    {
        ["error"] = error, ["error_description"] = $"AADSTS{code}: {description}", ["error_codes"] = new JsonArray(code),
        ["timestamp"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["trace_id"] = Guid.NewGuid().ToString(), ["correlation_id"] = Guid.NewGuid().ToString(),
    }, statusCode: status);
}
