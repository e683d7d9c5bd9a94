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
    /// which costs a fraction of a cryptographic one on every request. The timestamp is formatted once a second.
    /// </summary>
    public static string New()
    {
        var stamp = CurrentStamp();
        return string.Create(34, stamp, static (span, stamp) =>
        {
            stamp.Text.CopyTo(span);
            Span<byte> random = stackalloc byte[10];
            Random.Shared.NextBytes(random);
            Convert.TryToHexString(random, span[14..], out _);
        });
    }

    private sealed record Stamp(long Second, string Text);

    private static Stamp _stamp = new(-1, "");

    private static Stamp CurrentStamp()
    {
        var now = DateTime.UtcNow;
        var second = now.Ticks / TimeSpan.TicksPerSecond;
        var stamp = Volatile.Read(ref _stamp);
        if (stamp.Second == second) return stamp;
        stamp = new Stamp(second, now.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture));
        Volatile.Write(ref _stamp, stamp);
        return stamp;
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
