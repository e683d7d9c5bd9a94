namespace ExchangeBridge.Server.Wire;

/// <summary>
/// The platform's request id: a UTC timestamp and 20 random hex digits, e.g. 2024110416232661C50BC902DF30E6C183.
/// Sent back as <c>X-Tt-Logid</c> (and <c>X-Request-Id</c>, which some SDKs read) and written in the log line.
/// </summary>
public static class LogId
{
    public const string Header = "X-Tt-Logid";
    public const string RequestIdHeader = "X-Request-Id";

    /// <summary>
    /// A log id names a request, it guards nothing: the random part comes from the shared non-cryptographic generator,
    /// which costs a fraction of a cryptographic one on every request.
    /// </summary>
    public static string New()
    {
        var now = DateTime.UtcNow;
        var random = (ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue);
        var more = (ushort)Random.Shared.Next(ushort.MaxValue + 1);
        return string.Create(34, (now, random, more), static (span, state) =>
        {
            state.now.TryFormat(span, out _, "yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
            state.random.TryFormat(span[14..30], out _, "X16");
            state.more.TryFormat(span[30..], out _, "X4");
        });
    }

    /// <summary>The request's id, read back from the answer's header (no per-request items dictionary to carry it).</summary>
    public static string Of(HttpContext context) => context.Response.Headers[Header].ToString();

    /// <summary>Gives the request its id before anything else runs, so every answer, error or not, carries it.</summary>
    public static IApplicationBuilder UseLogId(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var id = New();
        context.Response.Headers[Header] = id;
        context.Response.Headers[RequestIdHeader] = id;
        return next(context);
    });
}
