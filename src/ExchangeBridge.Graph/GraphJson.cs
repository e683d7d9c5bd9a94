using System.Text.Json;
using System.Text.Json.Serialization;
using ExchangeBridge.Core.Exchange;

namespace ExchangeBridge.Graph;

// The import's hot path reads Graph's answers as JSON into these records, exactly the fields GraphEvents maps, instead of
// the SDK's Event models: each of those routes every property through a change-tracking backing store, which cost about
// half the server's CPU on a Graph import. Enum-valued fields stay strings, matched as the SDK's parser matches them
// (by name, ignoring case; an unknown value reads as absent).

/// <summary>An event as <c>GraphEvents.Properties</c> selects it, with a master's cancelled occurrences and expanded exceptions.</summary>
internal class GraphEventJson
{
    public string? Id { get; init; }
    public string? ChangeKey { get; init; }
    [JsonPropertyName("iCalUId")] public string? ICalUId { get; init; }
    public string? Subject { get; init; }
    public GraphItemBodyJson? Body { get; init; }
    public GraphLocationJson? Location { get; init; }
    public GraphDateTimeZoneJson? Start { get; init; }
    public GraphDateTimeZoneJson? End { get; init; }
    public string? OriginalStartTimeZone { get; init; }
    public bool? IsAllDay { get; init; }
    public GraphRecipientJson? Organizer { get; init; }
    public List<GraphAttendeeJson>? Attendees { get; init; }
    public GraphRecurrenceJson? Recurrence { get; init; }
    public string? Type { get; init; }
    public string? SeriesMasterId { get; init; }
    public DateTimeOffset? OriginalStart { get; init; }
    public string? ShowAs { get; init; }
    public bool? IsReminderOn { get; init; }
    public int? ReminderMinutesBeforeStart { get; init; }
    public bool? IsCancelled { get; init; }
    public DateTimeOffset? LastModifiedDateTime { get; init; }
    public DateTimeOffset? CreatedDateTime { get; init; }
    public string? OriginalEndTimeZone { get; init; }
    public string? Sensitivity { get; init; }
    public GraphResponseStatusJson? ResponseStatus { get; init; }
    public GraphOnlineMeetingJson? OnlineMeeting { get; init; }
    public string? OnlineMeetingUrl { get; init; }
    public List<string>? CancelledOccurrences { get; init; }
    public List<GraphEventJson>? ExceptionOccurrences { get; init; }
}

internal sealed record GraphItemBodyJson(string? Content);

internal sealed record GraphLocationJson(string? DisplayName);

internal sealed record GraphDateTimeZoneJson(string? DateTime, string? TimeZone);

internal sealed record GraphEmailAddressJson(string? Name, string? Address);

internal sealed record GraphRecipientJson(GraphEmailAddressJson? EmailAddress);

internal sealed record GraphResponseStatusJson(string? Response);

/// <summary>onlineMeetingInfo: how to join the event's online meeting.</summary>
internal sealed record GraphOnlineMeetingJson(string? JoinUrl);

internal sealed record GraphAttendeeJson(string? Type, GraphResponseStatusJson? Status, GraphEmailAddressJson? EmailAddress);

internal sealed record GraphRecurrenceJson(GraphRecurrencePatternJson? Pattern, GraphRecurrenceRangeJson? Range);

internal sealed record GraphRecurrencePatternJson(
    string? Type, int? Interval, int? Month, int? DayOfMonth, List<string?>? DaysOfWeek, string? FirstDayOfWeek, string? Index);

internal sealed record GraphRecurrenceRangeJson(
    string? Type, DateOnly? StartDate, DateOnly? EndDate, string? RecurrenceTimeZone, int? NumberOfOccurrences);

/// <summary>Graph's error body, <c>{"error":{"code","message"}}</c>.</summary>
internal sealed record GraphErrorJson(string? Code, string? Message);

/// <summary>
/// One answer of a JSON batch (<c>{"id","status","headers","body"}</c>). The body is an event when the status is a
/// success and an error otherwise; its properties may come before the status, so one type reads both.
/// </summary>
internal sealed record GraphBatchStepJson(string? Id, int Status, Dictionary<string, string>? Headers, GraphStepBodyJson? Body);

internal sealed class GraphStepBodyJson : GraphEventJson
{
    public GraphErrorJson? Error { get; init; }
}

internal sealed record GraphBatchJson(List<GraphBatchStepJson>? Responses);

/// <summary>A delta entry: a single or master (all the connector reads of it), an occurrence or exception, or a removal.</summary>
internal sealed record GraphDeltaEntryJson(
    string? Id, string? ChangeKey, string? Type, string? SeriesMasterId, [property: JsonPropertyName("@removed")] JsonElement? Removed);

internal sealed record GraphDeltaPageJson(
    List<GraphDeltaEntryJson>? Value,
    [property: JsonPropertyName("@odata.nextLink")] string? NextLink,
    [property: JsonPropertyName("@odata.deltaLink")] string? DeltaLink);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(GraphBatchJson))]
[JsonSerializable(typeof(GraphDeltaPageJson))]
internal sealed partial class GraphJsonContext : JsonSerializerContext
{
    /// <summary>
    /// A body read into these records; a value outside the documented shape fails the call as permanent, as the SDK's
    /// parser failing on it would.
    /// </summary>
    public static async Task<T> ReadAsync<T>(Stream body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(body, type, cancellationToken)
                   ?? throw new ExchangeConnectorException(ExchangeFailureKind.Permanent, "Graph answer malformed: an empty body");
        }
        catch (JsonException e)
        {
            throw new ExchangeConnectorException(ExchangeFailureKind.Permanent, $"Graph answer malformed: {e.Message}", inner: e);
        }
    }
}
