using System.Globalization;
using System.Xml.Linq;
using ExchangeBridge.Core.Exchange;
using static ExchangeBridge.Ews.EwsNames;

namespace ExchangeBridge.Ews;

/// <summary>EWS response codes and SOAP faults turned into the connector's failure kinds, in one place.</summary>
internal static class EwsErrors
{
    public static ExchangeFailureKind KindOf(string responseCode) => responseCode switch
    {
        "ErrorImpersonateUserDenied" or "ErrorImpersonationDenied" => ExchangeFailureKind.ImpersonationDenied,
        "ErrorNonExistentMailbox" => ExchangeFailureKind.MailboxNotFound,
        "ErrorServerBusy" or "ErrorExceededConnectionCount" or "ErrorTooManyObjectsOpened" => ExchangeFailureKind.Throttled,
        "ErrorInvalidSyncStateData" => ExchangeFailureKind.InvalidSyncState,
        "ErrorItemNotFound" or "ErrorFolderNotFound" or "ErrorSyncFolderNotFound" => ExchangeFailureKind.NotFound,
        "ErrorInternalServerTransientError" or "ErrorImpersonationFailed" or "ErrorMailboxMoveInProgress"
            or "ErrorMailboxStoreUnavailable" or "ErrorTimeoutExpired" or "ErrorInternalServerError" => ExchangeFailureKind.Transient,
        _ => ExchangeFailureKind.Permanent,
    };

    /// <summary>From a ResponseMessage with ResponseClass="Error". An inner error (ErrorInternalServerError wrapping
    /// ErrorServerBusy, as Microsoft's throttling doc describes) decides the kind.</summary>
    public static ExchangeConnectorException FromResponseMessage(XElement message, string operation)
    {
        var code = message.Element(M + "ResponseCode")?.Value.Trim() ?? "ErrorUnknown";
        var messageXml = message.Element(M + "MessageXml");
        var effective = Value(messageXml, "InnerErrorResponseCode") ?? code;
        var text = message.Element(M + "MessageText")?.Value.Trim();
        return Create(operation, effective, text, BackOff(messageXml));
    }

    /// <summary>From a SOAP fault: the detail's ResponseCode wins over the faultcode (exchangelib does the same).</summary>
    public static ExchangeConnectorException FromFault(XElement fault, string operation)
    {
        var detail = fault.Element("detail");
        var code = detail?.Element(E + "ResponseCode")?.Value.Trim()
                   ?? fault.Element("faultcode")?.Value.Trim().Split(':').Last()
                   ?? "ErrorUnknown";
        var text = detail?.Element(E + "Message")?.Value.Trim() ?? fault.Element("faultstring")?.Value.Trim();
        return Create(operation, code, text, BackOff(detail?.Element(T + "MessageXml")));
    }

    /// <summary>
    /// ErrorExceededConnectionCount counts the calling account's connections (EWSMaxConcurrency); ErrorServerBusy is the
    /// budget of the mailbox the request impersonates (Exchange 2010 SP2 RU4 on charges the target mailbox), so only the
    /// first is about the account.
    /// </summary>
    private static ExchangeConnectorException Create(string operation, string code, string? text, TimeSpan? backOff) =>
        new(KindOf(code), $"EWS {operation}: {code}{(string.IsNullOrEmpty(text) ? "" : $" ({text})")}", backOff)
        {
            AccountWide = code == "ErrorExceededConnectionCount",
        };

    private static TimeSpan? BackOff(XElement? messageXml) =>
        long.TryParse(Value(messageXml, "BackOffMilliseconds"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms)
            : null;

    private static string? Value(XElement? messageXml, string name) =>
        messageXml?.Elements(T + "Value").FirstOrDefault(v => (string?)v.Attribute("Name") == name)?.Value.Trim();
}
