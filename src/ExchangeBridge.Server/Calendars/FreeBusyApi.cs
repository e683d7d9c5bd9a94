using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Calendars;

/// <summary>A busy stretch; <paramref name="RsvpStatus"/> only when the request asked for it (need_rsvp_status).</summary>
public sealed record FreeBusyItem(string StartTime, string EndTime, string? RsvpStatus = null);

public sealed record FreeBusyListData(IReadOnlyList<FreeBusyItem> FreebusyList);

public sealed record UserFreeBusy(string UserId, IReadOnlyList<FreeBusyItem> FreebusyItems);

public sealed record FreeBusyBatchData(IReadOnlyList<UserFreeBusy> FreebusyLists);

/// <summary>What a free/busy request asks, whoever it names.</summary>
public sealed record FreeBusyQuery(DateTimeOffset TimeMin, DateTimeOffset TimeMax, bool IncludeExternalCalendar, bool OnlyBusy,
    bool NeedRsvpStatus);

/// <summary>
/// Free/busy of the tenant's employees (<c>POST /freebusy/list</c> for one user, <c>/freebusy/batch</c> for several), from
/// their bound Exchange calendars: the platform's "external calendars" (<c>include_external_calendar</c>, on unless turned
/// off) are exactly those. As Exchange's own free/busy, a user's default calendar folder counts (the primary calendar).
/// Anyone in the tenant may see anyone's free/busy, as on the platform, so the answer holds times only: never a summary,
/// a location or who attends, and a private event is busy like any other.
/// </summary>
public static partial class FreeBusyApi
{
    /// <summary>
    /// The platform's pages give no range limit; Exchange's own free/busy (GetUserAvailability) allows 42 days, and a
    /// free/busy view is no wider than that, so wider ranges are refused rather than expanded without bound.
    /// </summary>
    private static readonly TimeSpan MaxRange = TimeSpan.FromDays(42);

    /// <summary>At most this many users in one batch: the platform's page gives no number, and this is the issue's own scale.</summary>
    private const int MaxBatchUsers = 100;

    public static IEndpointRouteBuilder MapFreeBusyApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/open-apis/calendar/v4/freebusy").RequireAuthorization(Policies.ReadFreeBusy);
        group.MapPost("/list", List).WithName("FreeBusyList").WithSummary("Busy times of one user's primary calendar");
        group.MapPost("/batch", Batch).WithName("FreeBusyBatch").WithSummary("Busy times of several users' primary calendars");
        return app;
    }

    public static async Task<FeishuJsonResult<Envelope<FreeBusyListData>>> List(HttpContext context, EventRangeReads reads, CancellationToken ct)
    {
        var idType = UserIdTypes.Parse(context.Request.Query["user_id_type"].FirstOrDefault());
        var (userId, query) = await JsonBody.ReadObjectAsync(context.Request, FeishuErrors.InvalidParameters, body =>
        {
            var user = JsonBody.OptionalString(body, "user_id", FeishuErrors.InvalidParameters);
            var room = JsonBody.OptionalString(body, "room_id", FeishuErrors.InvalidParameters);
            if (!string.IsNullOrEmpty(room))
                throw FeishuException.InvalidParameter("room_id: no meeting room is imported here; ask for a user_id");
            if (string.IsNullOrEmpty(user)) throw FeishuException.InvalidParameter("user_id or room_id is required");
            return (user, ReadQuery(body));
        }, ct);
        var busy = await BusyAsync(Caller.Of(context), reads, idType, [userId], query, ct);
        return FeishuJson.Result(Envelope.Success(new FreeBusyListData(busy[userId])), FeishuJsonContext.Default.EnvelopeFreeBusyListData);
    }

    public static async Task<FeishuJsonResult<Envelope<FreeBusyBatchData>>> Batch(HttpContext context, EventRangeReads reads, CancellationToken ct)
    {
        var idType = UserIdTypes.Parse(context.Request.Query["user_id_type"].FirstOrDefault());
        var (userIds, query) = await JsonBody.ReadObjectAsync(context.Request, FeishuErrors.InvalidParameters, body =>
        {
            var users = JsonBody.OptionalStringArray(body, "user_ids", FeishuErrors.InvalidParameters).Distinct(StringComparer.Ordinal).ToList();
            if (users.Count == 0) throw FeishuException.InvalidParameter("user_ids is required");
            if (users.Count > MaxBatchUsers) throw FeishuException.InvalidParameter($"user_ids holds at most {MaxBatchUsers} users");
            if (users.Any(string.IsNullOrEmpty)) throw FeishuException.InvalidParameter("user_ids holds an empty id");
            return (users, ReadQuery(body));
        }, ct);
        var busy = await BusyAsync(Caller.Of(context), reads, idType, userIds, query, ct);
        return FeishuJson.Result(Envelope.Success(new FreeBusyBatchData(userIds.Select(u => new UserFreeBusy(u, busy[u])).ToList())),
            FeishuJsonContext.Default.EnvelopeFreeBusyBatchData);
    }

    /// <summary>
    /// The busy stretches of each user asked for, by the id asked with: two statements whatever the number of users (who
    /// they are, then every event of their primary calendars in the range). A user who is not in the tenant, or has
    /// resigned, is 195100; one with no bound Exchange calendar is simply free.
    /// </summary>
    public static async Task<Dictionary<string, IReadOnlyList<FreeBusyItem>>> BusyAsync(Caller caller, EventRangeReads reads, UserIdType idType,
        IReadOnlyCollection<string> askedIds, FreeBusyQuery query, CancellationToken ct)
    {
        var named = await reads.ResolveUsersAsync(caller.TenantKey, caller.AppId, idType, askedIds, ct);
        var byAsked = named.Where(u => !u.IsResigned).ToDictionary(u => u.AskedId, u => u.UserId, StringComparer.Ordinal);
        if (askedIds.FirstOrDefault(id => !byAsked.ContainsKey(id)) is { } unknown)
            throw new FeishuException(FeishuErrors.UserNotInTenant, $"user is dismiss or not exist in the tenant: {unknown}");

        var (startMs, endMs) = (query.TimeMin.ToUnixTimeMilliseconds(), query.TimeMax.ToUnixTimeMilliseconds());
        var rows = query.IncludeExternalCalendar
            ? await reads.PrimaryCalendarsRangeAsync(caller.TenantKey, byAsked.Values.Distinct(StringComparer.Ordinal).ToList(), startMs, endMs, ct)
            : [];
        var byOwner = BusyByOwner(rows, query);
        return askedIds.ToDictionary(id => id, id => byOwner.GetValueOrDefault(byAsked[id]) ?? [], StringComparer.Ordinal);
    }

    /// <summary>
    /// The busy stretches of each calendar owner in <paramref name="rows"/> (<see cref="EventRangeReads.PrimaryCalendarsRangeAsync"/>
    /// over the query's range), by user_id: the expansion and filtering half of <see cref="BusyAsync"/>, which the free/busy
    /// benchmark times apart from the statement.
    /// </summary>
    public static Dictionary<string, IReadOnlyList<FreeBusyItem>> BusyByOwner(IReadOnlyList<StoredEventRow> rows, FreeBusyQuery query)
    {
        var (startMs, endMs) = (query.TimeMin.ToUnixTimeMilliseconds(), query.TimeMax.ToUnixTimeMilliseconds());
        var rowsByOwner = new Dictionary<string, List<StoredEventRow>>(StringComparer.Ordinal);
        foreach (var row in rows)
            (rowsByOwner.TryGetValue(row.OwnerId, out var own) ? own : rowsByOwner[row.OwnerId] = []).Add(row);
        var offsetText = query.TimeMin.ToString("zzz", CultureInfo.InvariantCulture);
        var busy = new Dictionary<string, IReadOnlyList<FreeBusyItem>>(rowsByOwner.Count, StringComparer.Ordinal);
        foreach (var (owner, ownRows) in rowsByOwner)
            busy[owner] = Items(EventInstances.BusyStretches(ownRows, startMs, endMs), query, offsetText);
        return busy;
    }

    /// <summary>
    /// What counts: a cancelled event never; with only_busy (the default) neither an event shown as free nor one the user
    /// declined. Each is its own stretch, as the platform lists them, in the offset the request's time_min was written in
    /// (<paramref name="offsetText"/>).
    /// </summary>
    private static List<FreeBusyItem> Items(List<BusyStretch> stretches, FreeBusyQuery query, string offsetText)
    {
        var offset = query.TimeMin.Offset;
        var items = new List<FreeBusyItem>(stretches.Count);
        foreach (var stretch in stretches)
        {
            // The row's free/busy columns are its facts (a series master's for an occurrence).
            var row = stretch.Row;
            if (row.Status == "cancelled") continue;
            if (query.OnlyBusy && (row.FreeBusyStatus == "free" || row.SelfRsvpStatus == "decline")) continue;
            items.Add(new FreeBusyItem(Rfc3339(stretch.StartMs, offset, offsetText), Rfc3339(stretch.EndMs, offset, offsetText),
                query.NeedRsvpStatus ? row.SelfRsvpStatus ?? "needs_action" : null));
        }
        return items;
    }

    private static FreeBusyQuery ReadQuery(JsonElement body)
    {
        var min = Time(body, "time_min");
        var max = Time(body, "time_max");
        if (max <= min) throw FeishuException.InvalidParameter("time_max must be after time_min");
        if (max - min > MaxRange) throw FeishuException.InvalidParameter($"the range from time_min to time_max is at most {MaxRange.TotalDays} days");
        return new FreeBusyQuery(min, max,
            JsonBody.OptionalBool(body, "include_external_calendar", absent: true, FeishuErrors.InvalidParameters),
            JsonBody.OptionalBool(body, "only_busy", absent: true, FeishuErrors.InvalidParameters),
            JsonBody.OptionalBool(body, "need_rsvp_status", absent: false, FeishuErrors.InvalidParameters));
    }

    /// <summary>An RFC 3339 date-time with its offset ("2020-10-28T12:00:00+08:00", "…Z"); a time without one is refused.</summary>
    private static DateTimeOffset Time(JsonElement body, string name)
    {
        var text = JsonBody.RequiredString(body, name, FeishuErrors.InvalidParameters);
        return Rfc3339Pattern().IsMatch(text) &&
               DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value)
            ? value
            : throw FeishuException.InvalidParameter($"{name} must be an RFC 3339 date-time with an offset, such as 2020-10-28T12:00:00+08:00");
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339Pattern();

    /// <summary>
    /// "2020-10-28T12:00:00+08:00": the local time in .NET's sortable form ("s", formatted without reading a pattern, which
    /// thousands of stretches an answer would otherwise each do) and the offset's text, the same for every stretch of it.
    /// </summary>
    private static string Rfc3339(long ms, TimeSpan offset, string offsetText) =>
        string.Create(SortableLength + offsetText.Length, (Local: DateTimeOffset.FromUnixTimeMilliseconds(ms).ToOffset(offset).DateTime, offsetText),
            static (chars, value) =>
            {
                value.Local.TryFormat(chars, out _, "s", CultureInfo.InvariantCulture);
                value.offsetText.CopyTo(chars[SortableLength..]);
            });

    /// <summary>The length of "yyyy-MM-ddTHH:mm:ss".</summary>
    private const int SortableLength = 19;
}
