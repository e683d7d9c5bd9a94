namespace ExchangeBridge.Core.Bindings;

/// <summary>
/// The address rules for admin and Exchange accounts: the page's 1..500 characters, one '@' with a local part and
/// a dotted domain, no whitespace or control characters. Deliberately simpler than RFC 5322: Exchange's own
/// SMTP addresses never use quoted local parts.
/// </summary>
public static class EmailAddress
{
    public const int MaxLength = 500;

    public static string Normalize(string address) => address.Trim().ToLowerInvariant();

    public static bool IsValid(string? address)
    {
        if (string.IsNullOrEmpty(address) || address.Length > MaxLength) return false;
        var at = address.IndexOf('@');
        if (at <= 0 || at != address.LastIndexOf('@') || at == address.Length - 1) return false;
        foreach (var c in address)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or '(' or ')' or ',' or ';' or ':' or '"' or '\\' or '[' or ']')
                return false;
            if (char.IsSurrogate(c) || c is '\uFEFF' or '\u200B' or '\u200C' or '\u200D' or '\u2028' or '\u2029')
                return false;
        }
        var domain = address.AsSpan(at + 1);
        if (domain.IndexOf('.') <= 0 || domain[^1] == '.' || domain.Contains("..", StringComparison.Ordinal)) return false;
        var local = address.AsSpan(0, at);
        return local[0] != '.' && local[^1] != '.' && !local.Contains("..", StringComparison.Ordinal);
    }
}
