using System.Globalization;
using System.Text;
using ExchangeBridge.Core.Errors;

namespace ExchangeBridge.Server.Calendars;

/// <summary>
/// Where a listing stands: after a row of a full listing (with the sync point taken at its first page), or after a
/// point of the change log (a sync, or a page of one).
/// </summary>
public readonly record struct ListPosition(long AfterId, long? SyncPoint, long? ChangesAfter)
{
    public static ListPosition Start => default;
}

/// <summary>
/// The list endpoints' page and sync tokens: opaque to clients (base64 text), each carrying its position. A page token
/// that does not read is an invalid parameter (190002); a sync token that does not read is expired (190008), which
/// tells a client to list in full again.
/// </summary>
public static class ListTokens
{
    public static string After(long id, long syncPoint) => Encode($"after:{id}:{syncPoint}");

    public static string Changes(long seq) => Encode($"changes:{seq}");

    public static string Sync(long seq) => Encode($"sync:{seq}");

    /// <summary>The page token of a paged read that is not a listing (instances, attendees, search): where its next page starts.</summary>
    public static string Offset(long position) => Encode($"after:{position}");

    public static long ReadOffsetToken(string token) =>
        Decode(token)?.Split(':') is ["after", var id] && Number(id) is { } position ? position
            : throw FeishuException.InvalidParameter("page_token is invalid");

    public static ListPosition ReadPageToken(string token)
    {
        var parts = Decode(token)?.Split(':');
        return parts switch
        {
            ["after", var id] when Number(id) is { } afterId => new ListPosition(afterId, null, null),
            ["after", var id, var point] when Number(id) is { } afterId && Number(point) is { } syncPoint => new ListPosition(afterId, syncPoint, null),
            ["changes", var seq] when Number(seq) is { } after => new ListPosition(0, null, after),
            _ => throw FeishuException.InvalidParameter("page_token is invalid"),
        };
    }

    public static ListPosition ReadSyncToken(string token) =>
        Decode(token)?.Split(':') is ["sync", var seq] && Number(seq) is { } after
            ? new ListPosition(0, null, after)
            : throw new FeishuException(FeishuErrors.SyncTokenExpired, "the sync_token does not read; list again without it");

    private static string Encode(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string? Decode(string token)
    {
        var bytes = new byte[token.Length];
        return Convert.TryFromBase64String(token, bytes, out var written) ? Encoding.UTF8.GetString(bytes, 0, written) : null;
    }

    private static long? Number(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
}
