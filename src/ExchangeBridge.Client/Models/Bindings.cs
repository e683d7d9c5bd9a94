using System.Text.Json.Serialization;

namespace ExchangeBridge.Client;

/// <summary>Which of a user's ids a call speaks in: <c>open_id</c> (per app, the platform's default), <c>union_id</c>, <c>user_id</c>.</summary>
public enum UserIdType
{
    OpenId,
    UnionId,
    UserId,
}

/// <summary>A binding of an Exchange account to a Feishu user, as the Open API answers it.</summary>
public sealed record ExchangeBinding(
    string AdminAccount, string ExchangeAccount, string UserId, string Status, string ExchangeBindingId)
{
    /// <summary>The import is over, well (<c>done</c>) or not (<c>err</c>).</summary>
    [JsonIgnore]
    public bool IsSettled => Status is ExchangeBindingStatus.Done or ExchangeBindingStatus.Err;
}

/// <summary>The documented statuses: <c>doing</c> → <c>cal_done</c> → <c>timespan_done</c> → <c>done</c>, or <c>err</c>.</summary>
public static class ExchangeBindingStatus
{
    public const string Doing = "doing";
    public const string CalDone = "cal_done";
    public const string TimespanDone = "timespan_done";
    public const string Done = "done";
    public const string Err = "err";
}

/// <summary>The body of a create: the Exchange admin account that reaches the mailbox, the mailbox, the Feishu user.</summary>
public sealed record CreateExchangeBindingRequest(string AdminAccount, string ExchangeAccount, string UserId);

internal static class UserIdTypes
{
    public static string ToWire(this UserIdType type) => type switch
    {
        UserIdType.OpenId => "open_id",
        UserIdType.UnionId => "union_id",
        UserIdType.UserId => "user_id",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
