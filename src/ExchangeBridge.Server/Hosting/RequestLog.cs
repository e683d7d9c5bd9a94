using System.Diagnostics;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Hosting;

/// <summary>One line per request with its log id, so a caller's X-Tt-Logid finds the server's side of the story.</summary>
public static partial class RequestLog
{
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
                Log(logger, LogId.Of(context), context.Request.Method, context.Request.Path, context.Response.StatusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "log_id={LogId} {Method} {Path} -> {Status} in {ElapsedMs:0.0} ms")]
    private static partial void Log(ILogger logger, string logId, string method, string path, int status, double elapsedMs);
}
