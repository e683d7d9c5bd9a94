namespace ExchangeBridge.Core.Errors;

/// <summary>
/// A refusal the caller must see: one catalog entry, optionally with a detail that makes the msg clear
/// ("exchange_account: not an email address"). Mapped to the wire in one place, never leaking internals.
/// </summary>
public sealed class FeishuException(FeishuError error, string? detail = null, IReadOnlyList<string>? missingScopes = null,
    string? troubleshooter = null)
    : Exception(detail is null ? error.Msg : $"{error.Msg}: {detail}")
{
    public FeishuError Error { get; } = error;
    public string? Detail { get; } = detail;

    /// <summary>For a scope refusal: the scopes any one of which would have been enough (error.permission_violations).</summary>
    public IReadOnlyList<string>? MissingScopes { get; } = missingScopes;

    /// <summary>
    /// For a refusal whose fix the platform's msg does not tell: a one-line hint, sent as <c>error.troubleshooter</c>
    /// beside the log id, where the platform sends its troubleshooting link. The code and msg stay the platform's.
    /// </summary>
    public string? Troubleshooter { get; } = troubleshooter;

    /// <summary>The msg as the wire carries it.</summary>
    public string WireMessage => Message;

    public static FeishuException InvalidParameter(string detail) => new(FeishuErrors.InvalidParameters, detail);
}
