namespace ExchangeBridge.Core.Exchange;

/// <summary>
/// An Exchange item or folder id in its two wire forms. EWS writes the store's id as standard base64 (it may hold '/'
/// and '+'); Graph's default REST id is the same string with '/' written '-' and '+' written '_', so it can stand in a
/// URL path (what Office.js's <c>convertToRestId</c> and <c>convertToEwsId</c> do; Graph's <c>translateExchangeIds</c>
/// does the same server-side but is not offered to application permissions). The connector contract speaks the EWS
/// form, so one mailbox gives the same ids through every connector and a switch of connector keeps every identity.
/// </summary>
public static class ExchangeIds
{
    /// <summary>The REST form Graph reads and writes.</summary>
    public static string ToRest(string ewsId) => ewsId.Replace('/', '-').Replace('+', '_');

    /// <summary>The EWS form, the one the connector contract speaks.</summary>
    public static string ToEws(string restId) => restId.Replace('-', '/').Replace('_', '+');
}
