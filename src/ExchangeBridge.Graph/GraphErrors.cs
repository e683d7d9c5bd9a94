using System.Globalization;
using ExchangeBridge.Core.Exchange;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Identity.Client;
using Microsoft.Kiota.Abstractions;

namespace ExchangeBridge.Graph;

/// <summary>Graph error answers, token-endpoint refusals and transport faults turned into the connector's failure kinds, in one place.</summary>
internal static class GraphErrors
{
    /// <summary>The error codes Graph documents for calendars, and the HTTP status as the fallback.</summary>
    public static ExchangeFailureKind KindOf(int status, string? code) => code switch
    {
        "SyncStateNotFound" or "SyncStateInvalid" or "syncStateNotFound" or "resyncRequired" => ExchangeFailureKind.InvalidSyncState,
        "ErrorItemNotFound" => ExchangeFailureKind.NotFound,
        "ErrorInvalidUser" or "MailboxNotEnabledForRESTAPI" or "MailboxNotSupportedForRESTAPI" or "ErrorNonExistentMailbox"
            => ExchangeFailureKind.MailboxNotFound,
        "ErrorAccessDenied" or "ErrorImpersonateUserDenied" or "Authorization_RequestDenied" => ExchangeFailureKind.ImpersonationDenied,
        "ApplicationThrottled" or "TooManyRequests" or "ErrorServerBusy" => ExchangeFailureKind.Throttled,
        _ => status switch
        {
            401 => ExchangeFailureKind.Unauthorized,
            403 => ExchangeFailureKind.ImpersonationDenied,
            404 => ExchangeFailureKind.MailboxNotFound,
            410 => ExchangeFailureKind.InvalidSyncState,
            429 or 503 => ExchangeFailureKind.Throttled,
            >= 500 => ExchangeFailureKind.Transient,
            _ => ExchangeFailureKind.Permanent,
        },
    };

    public static ExchangeConnectorException From(Exception e, string operation) => e switch
    {
        ExchangeConnectorException known => known,
        ODataError odata => Create(operation, odata.ResponseStatusCode, odata.Error?.Code, odata.Error?.Message, odata, odata.ResponseHeaders),
        // The SDK's own failures (a refused $batch post) keep the answer's headers in a property of their own.
        ServiceException service => Create(operation, service.ResponseStatusCode, null, null, service,
            service.ResponseHeaders?.ToDictionary(h => h.Key, h => h.Value)),
        ApiException api => Create(operation, api.ResponseStatusCode, null, null, api, api.ResponseHeaders),
        MsalServiceException msal => FromTokenEndpoint(msal, operation),
        MsalClientException msal => new(ExchangeFailureKind.Permanent, $"Graph {operation}: token request refused by MSAL: {msal.ErrorCode} ({msal.Message})", inner: msal),
        HttpRequestException or TaskCanceledException or IOException =>
            new(ExchangeFailureKind.Transient, $"Graph {operation}: {e.GetType().Name}: {e.Message}", inner: e),
        // A value outside the documented shape (a date, an enum): retrying the same answer will not help.
        FormatException or OverflowException or ArgumentException or InvalidOperationException =>
            new(ExchangeFailureKind.Permanent, $"Graph {operation}: unreadable value ({e.Message})", inner: e),
        _ => new(ExchangeFailureKind.Transient, $"Graph {operation}: {e.GetType().Name}: {e.Message}", inner: e),
    };

    private static ExchangeConnectorException Create(string operation, int status, string? code, string? message, ApiException e,
        IDictionary<string, IEnumerable<string>>? headers)
    {
        var kind = KindOf(status, code);
        var text = $"Graph {operation}: HTTP {status}{(code is null ? "" : $" {code}")}{(string.IsNullOrEmpty(message) ? "" : $" ({message})")}";
        return new ExchangeConnectorException(kind, text, kind == ExchangeFailureKind.Throttled ? RetryAfter(headers) : null, e);
    }

    /// <summary>invalid_client (wrong secret, unknown app), unauthorized_client and an unknown tenant all mean the credentials are refused.</summary>
    private static ExchangeConnectorException FromTokenEndpoint(MsalServiceException e, string operation)
    {
        var kind = e.StatusCode switch
        {
            429 => ExchangeFailureKind.Throttled,
            >= 500 => ExchangeFailureKind.Transient,
            _ when e.ErrorCode is "request_timeout" or "service_not_available" => ExchangeFailureKind.Transient,
            _ => ExchangeFailureKind.Unauthorized,
        };
        return new ExchangeConnectorException(kind, $"Graph {operation}: the token endpoint refused the app's credentials: {e.ErrorCode} ({FirstLine(e.Message)})",
            kind == ExchangeFailureKind.Throttled ? e.Headers?.RetryAfter?.Delta : null, e);
    }

    /// <summary>
    /// Retry-After in seconds (what Graph sends, with a fraction in Microsoft's documented sample: "2.128") or as an HTTP date.
    /// </summary>
    public static TimeSpan? RetryAfter(IDictionary<string, IEnumerable<string>>? headers)
    {
        var value = headers?.FirstOrDefault(h => string.Equals(h.Key, "Retry-After", StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();
        if (value is null) return null;
        if (double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
            return TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds - 1));
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at - DateTimeOffset.UtcNow
            : null;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
