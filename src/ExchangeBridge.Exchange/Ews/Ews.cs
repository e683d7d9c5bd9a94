using System.Xml.Linq;

namespace ExchangeBridge.Exchange.Ews;

/// <summary>The EWS namespaces and the few shapes every request and response share.</summary>
public static class Ews
{
    public static readonly XNamespace Soap = "http://schemas.xmlsoap.org/soap/envelope/";
    public static readonly XNamespace Types = "http://schemas.microsoft.com/exchange/services/2006/types";
    public static readonly XNamespace Messages = "http://schemas.microsoft.com/exchange/services/2006/messages";
    public static readonly XNamespace Errors = "http://schemas.microsoft.com/exchange/services/2006/errors";
    public const string ServerVersion = "Exchange2013_SP1";

    /// <summary>An envelope with RequestServerVersion and, when a mailbox is named, ExchangeImpersonation by SMTP address.</summary>
    public static XDocument Envelope(XElement operation, string? impersonatedMailbox)
    {
        var header = new XElement(Soap + "Header", new XElement(Types + "RequestServerVersion", new XAttribute("Version", ServerVersion)));
        if (impersonatedMailbox is not null)
            header.Add(new XElement(Types + "ExchangeImpersonation",
                new XElement(Types + "ConnectingSID", new XElement(Types + "PrimarySmtpAddress", impersonatedMailbox))));
        return new XDocument(new XDeclaration("1.0", "utf-8", null),
            new XElement(Soap + "Envelope",
                new XAttribute(XNamespace.Xmlns + "soap", Soap), new XAttribute(XNamespace.Xmlns + "t", Types),
                new XAttribute(XNamespace.Xmlns + "m", Messages),
                header, new XElement(Soap + "Body", operation)));
    }

    /// <summary>The Body of an envelope, tolerating the https namespace some documented samples carry.</summary>
    public static XElement? BodyOf(XDocument document) =>
        document.Root?.Elements().FirstOrDefault(e => e.Name.LocalName == "Body");

    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
}
