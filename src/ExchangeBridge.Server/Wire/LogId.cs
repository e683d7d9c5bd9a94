using System.Security.Cryptography;

namespace ExchangeBridge.Server.Wire;

/// <summary>
/// The platform's request id: a UTC timestamp and 20 random hex digits, e.g. 2024110416232661C50BC902DF30E6C183.
/// Sent back as <c>X-Tt-Logid</c> (and <c>X-Request-Id</c>, which some SDKs read) and written in the log line.
/// </summary>
public static class LogId
{
    public const string Header = "X-Tt-Logid";
    public const string RequestIdHeader = "X-Request-Id";

    public static string New()
    {
        Span<byte> random = stackalloc byte[10];
        RandomNumberGenerator.Fill(random);
        return string.Create(34, (DateTime.UtcNow, random.ToArray()), static (span, state) =>
        {
            state.Item1.TryFormat(span, out _, "yyyyMMddHHmmss");
            Convert.TryToHexString(state.Item2, span[14..], out _);
        });
    }

    public static string Of(HttpContext context) =>
        context.Items.TryGetValue(typeof(LogId), out var id) && id is string s ? s : "";

    /// <summary>Gives the request its id before anything else runs, so every answer, error or not, carries it.</summary>
    public static IApplicationBuilder UseLogId(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var id = New();
        context.Items[typeof(LogId)] = id;
        context.Response.Headers[Header] = id;
        context.Response.Headers[RequestIdHeader] = id;
        return next(context);
    });
}
