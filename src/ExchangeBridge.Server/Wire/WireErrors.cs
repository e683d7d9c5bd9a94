using System.Text.Json;
using ExchangeBridge.Core.Errors;

namespace ExchangeBridge.Server.Wire;

/// <summary>
/// The one place where refusals become wire answers: <c>{"code":…,"msg":…,"error":{"log_id":…}}</c> with the
/// catalog's HTTP status. Unexpected faults become 190003 with nothing of their internals.
/// </summary>
public static partial class WireErrors
{
    /// <summary>What the platform's troubleshooter text starts with; ours goes on with a hint instead of a search link.</summary>
    public const string TroubleshooterPrefix = "排查建议查看(Troubleshooting suggestions): ";

    public static async Task WriteAsync(HttpContext context, FeishuError error, string? message = null,
        IReadOnlyList<string>? missingScopes = null, string? troubleshooter = null)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = error.HttpStatus;
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter, FeishuJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteNumber("code", error.Code);
        writer.WriteString("msg", message ?? error.Msg);
        writer.WriteStartObject("error");
        writer.WriteString("log_id", LogId.Of(context));
        if (troubleshooter is not null) writer.WriteString("troubleshooter", TroubleshooterPrefix + troubleshooter);
        if (missingScopes is not null)
        {
            writer.WriteStartArray("permission_violations");
            foreach (var scope in missingScopes)
            {
                writer.WriteStartObject();
                writer.WriteString("type", "action_scope_required");
                writer.WriteString("subject", scope);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    public static Task WriteAsync(HttpContext context, FeishuException exception) =>
        WriteAsync(context, exception.Error, exception.WireMessage, exception.MissingScopes, exception.Troubleshooter);

    /// <summary>Catches every refusal and fault thrown below it.</summary>
    public static IApplicationBuilder UseWireErrors(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        Task below;
        try
        {
            below = next(context);
        }
        catch (Exception e)
        {
            below = Task.FromException(e);
        }
        // Most answers are written before next returns, and need no state machine around them.
        return below.IsCompletedSuccessfully ? below : AnswerFaultAsync(context, below);
    });

    private static async Task AnswerFaultAsync(HttpContext context, Task below)
    {
        try
        {
            await below;
        }
        catch (FeishuException e)
        {
            await WriteAsync(context, e);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own refusals met outside a body read (JsonBody answers those in its endpoint's family).
            await WriteAsync(context, new FeishuException(FeishuErrors.InvalidParameters, BodyRefusal(e)));
        }
        catch (Exception e) when (context.RequestServices.GetRequiredService<Storage.IDatabase>().IsContention(e))
        {
            await WriteAsync(context, FeishuErrors.OperationRateLimited);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; nobody is left to answer.
        }
        catch (Exception e)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ExchangeBridge.Errors");
            LogUnexpected(logger, e, LogId.Of(context), context.Request.Method, Hosting.RequestLog.RouteOf(context));
            await WriteAsync(context, FeishuErrors.InternalServiceError);
        }
    }

    /// <summary>What to tell a caller whose body Kestrel refused: not Kestrel's own text, which names its settings.</summary>
    public static string BodyRefusal(BadHttpRequestException e) =>
        e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "request body too large" : "request body could not be read";

    // The route template, not the path: a path carries personal data (see RequestLog).
    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected fault log_id={LogId} {Method} {Route}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string logId, string method, string route);

    /// <summary>
    /// Answers a request that routing matched to no route — a path nobody serves, or a method its path does not serve (the
    /// framework's 405 answer is an endpoint but no route) — as the platform's gateway does, after every other step, as a
    /// fallback route's answer was. Not a fallback route: its catch-all would be a candidate of every path, so the matcher
    /// would copy every request's path into route values and test its constraint, on the busiest routes too.
    /// </summary>
    public static IApplicationBuilder UseGatewayNotFound(this IApplicationBuilder app) =>
        app.Use((context, next) => context.GetEndpoint() is RouteEndpoint ? next(context) : NotFound(context));

    /// <summary>The platform's gateway's answer to a path nobody serves.</summary>
    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync("404 page not found");
    }
}
