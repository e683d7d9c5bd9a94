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
            var (at, high, low) = state;
            Digits(span[..4], at.Year);
            Digits(span[4..6], at.Month);
            Digits(span[6..8], at.Day);
            Digits(span[8..10], at.Hour);
            Digits(span[10..12], at.Minute);
            Digits(span[12..14], at.Second);
            high.TryFormat(span[14..30], out _, "X16");
            low.TryFormat(span[30..], out _, "X4");
        });
    }

    private static void Digits(Span<char> into, int value)
    {
        for (var i = into.Length - 1; i >= 0; i--, value /= 10) into[i] = (char)('0' + value % 10);
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
