using System.Net;

namespace ExchangeBridge.Client;

/// <summary>
/// The one failure the clients raise for an answer that is not a success: the service's business <see cref="Code"/>
/// (the platform's catalog, e.g. 195100, 190004, 99991677), its <see cref="Msg"/>, the request's <see cref="LogId"/>
/// (quote it to the service's operators) and the HTTP status.
/// </summary>
public sealed class FeishuApiException : Exception
{
    /// <summary>The <see cref="Code"/> of an answer that carried none (not the platform's JSON: a proxy's page, a 404).</summary>
    public const int NoCode = -1;

    public FeishuApiException(int code, string msg, string? logId, HttpStatusCode status)
        : base(Describe(code, msg, logId, status))
    {
        Code = code;
        Msg = msg;
        LogId = logId;
        Status = status;
    }

    public int Code { get; }
    public string Msg { get; }

    /// <summary>From the <c>X-Tt-Logid</c> header, or the body's <c>error.log_id</c>.</summary>
    public string? LogId { get; }

    public HttpStatusCode Status { get; }

    /// <summary>
    /// A refusal that a later attempt may not meet: the platform's rate limits (190004 method, 190005 app, 190010
    /// operation, 99991400 token requests) or HTTP 429.
    /// </summary>
    public bool IsRateLimited => Status == HttpStatusCode.TooManyRequests || Code is 190004 or 190005 or 190010 or 99991400;

    private static string Describe(int code, string msg, string? logId, HttpStatusCode status) =>
        $"{msg} (code {code}, HTTP {(int)status}{(logId is null ? "" : $", log_id {logId}")})";
}
