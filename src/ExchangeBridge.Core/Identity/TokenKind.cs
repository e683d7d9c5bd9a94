namespace ExchangeBridge.Core.Identity;

/// <summary>The platform's token kinds, each recognisable by its prefix.</summary>
public enum TokenKind { Tenant, App, User, Refresh }

public static class TokenPrefixes
{
    public const string Tenant = "t-";
    public const string App = "a-";
    public const string User = "u-";
    public const string Refresh = "ur-";

    public static string For(TokenKind kind) => kind switch
    {
        TokenKind.Tenant => Tenant,
        TokenKind.App => App,
        TokenKind.User => User,
        TokenKind.Refresh => Refresh,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The kind a bearer token claims by its prefix; null when it has none of ours.</summary>
    public static TokenKind? KindOf(ReadOnlySpan<char> token) =>
        token.StartsWith(Refresh) ? TokenKind.Refresh
        : token.StartsWith(User) ? TokenKind.User
        : token.StartsWith(Tenant) ? TokenKind.Tenant
        : token.StartsWith(App) ? TokenKind.App
        : null;
}
