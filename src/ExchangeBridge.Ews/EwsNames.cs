using System.Xml.Linq;

namespace ExchangeBridge.Ews;

/// <summary>The XML namespaces of EWS over SOAP 1.1.</summary>
public static class EwsNames
{
    public const string SoapUri = "http://schemas.xmlsoap.org/soap/envelope/";
    public const string TypesUri = "http://schemas.microsoft.com/exchange/services/2006/types";
    public const string MessagesUri = "http://schemas.microsoft.com/exchange/services/2006/messages";
    public const string ErrorsUri = "http://schemas.microsoft.com/exchange/services/2006/errors";

    public static readonly XNamespace Soap = SoapUri;
    public static readonly XNamespace T = TypesUri;
    public static readonly XNamespace M = MessagesUri;
    public static readonly XNamespace E = ErrorsUri;

    /// <summary>The most an EWS server returns from one SyncFolderItems call.</summary>
    public const int MaxSyncChanges = 512;
}
