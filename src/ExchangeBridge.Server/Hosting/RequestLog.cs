using System.Diagnostics;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Hosting;

/// <summary>
/// One line per request with its log id, so a caller's X-Tt-Logid finds the server's side of the story. The line names
/// the route template and the tenant, never the path: a path carries personal data (a binding id is the base64 of two
/// email addresses; the operator API names users and mailboxes).
/// </summary>
public static partial class RequestLog
{
    /// <summary>What a request that matched no endpoint (a 404) is logged as.</summary>
    public const string Unrouted = "(unrouted)";

    public static IApplicationBuilder UseRequestLog(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("ExchangeBridge.Requests");
        if (!logger.IsEnabled(LogLevel.Information)) return app;
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                Log(logger, LogId.Of(context), context.Request.Method, RouteOf(context), TenantOf(context), context.Response.StatusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        });
    }

    /// <summary>The matched route's template (e.g. <c>/open-apis/calendar/v4/exchange_bindings/{exchange_binding_id}</c>).</summary>
    public static string RouteOf(HttpContext context) =>
        // A group's "" route combines to its prefix with a trailing '/'.
        context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { Length: > 1 } template } ? template.TrimEnd('/') : Unrouted;

    /// <summary>The caller's tenant (a bearer token's, or the operator API's tenant_key route value); "-" when there is none.</summary>
    private static string TenantOf(HttpContext context) =>
        context.Features.Get<Caller>()?.TenantKey ?? context.Request.RouteValues["tenant_key"] as string ?? "-";

    [LoggerMessage(Level = LogLevel.Information,
        Message = "log_id={LogId} {Method} {Route} tenant={TenantKey} -> {Status} in {ElapsedMs:0.0} ms")]
    private static partial void Log(ILogger logger, string logId, string method, string route, string tenantKey, int status, double elapsedMs);
}
