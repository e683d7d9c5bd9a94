namespace ExchangeBridge.Server.Hosting;

/// <summary>
/// Headers every answer carries, set before anything else runs so that every answer (routed, served from a cache inside
/// its endpoint, refused, the 404) sends them: <c>X-Content-Type-Options: nosniff</c>, so no browser guesses a type the
/// server did not name, and <c>Cache-Control: no-store</c>. No-store goes on every answer, not a list of routes: the
/// token endpoints, the operator API's secrets and codes, and every Open API answer (bindings, calendars, events: personal
/// data) must not be kept by a cache, and a rule per route would be one more thing a new route could forget.
/// </summary>
public static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-store";
        return next(context);
    });
}
