using ExchangeBridge.Core.Errors;

namespace ExchangeBridge.Core.Identity;

/// <summary>Which of a user's three ids a request speaks: open_id (per app), union_id (per tenant), user_id.</summary>
public enum UserIdType { OpenId, UnionId, UserId }

public static class UserIdTypes
{
    /// <summary>Parses the <c>user_id_type</c> query value; absent means open_id, as on the platform.</summary>
    public static UserIdType Parse(string? value) =>
        TryParse(value, out var type) ? type
        : throw FeishuException.InvalidParameter("user_id_type must be one of open_id, union_id, user_id");

    public static bool TryParse(string? value, out UserIdType type)
    {
        type = value switch
        {
            null or "" or "open_id" => UserIdType.OpenId,
            "union_id" => UserIdType.UnionId,
            "user_id" => UserIdType.UserId,
            _ => (UserIdType)(-1),
        };
        return type >= 0;
    }
}
