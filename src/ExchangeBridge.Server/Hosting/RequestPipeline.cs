using ExchangeBridge.Server.Admin;
using ExchangeBridge.Server.Bindings;
using ExchangeBridge.Server.Calendars;
using ExchangeBridge.Server.Console;
using ExchangeBridge.Server.Events;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.RateLimits;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Hosting;

/// <summary>
/// The way every request takes, and the endpoints at its end. There is one way: no request is answered ahead of
/// routing, so whatever is added after <c>UseRouting</c> — middleware, an endpoint's metadata or filters — holds for
/// every call of every route. A fast answer lives inside its endpoint, as that endpoint's first step (the GET of a
/// binding answers from <see cref="Storage.BindingReadCache"/>; the token endpoints hand out the app's current token).
/// </summary>
public static class RequestPipeline
{
    /// <summary>
    /// In this order, each step for a reason:
    /// 1. the log id first, so every answer, refusals and faults included, carries it, and the security headers with it
    ///    (the console's Content-Security-Policy on its answers);
    /// 2. the request log around everything below, so its time and status are the caller's;
    /// 3. wire errors around everything below, so every refusal and fault leaves in the platform's envelope;
    /// 4. routing, so every step below knows the endpoint and reads its metadata;
    /// 5. authentication, which has no default scheme: the scheme a policy names (the bearer token's caller, or the
    ///    operator key) authenticates when
    /// 6. authorisation evaluates the endpoint's policy, whose first unmet requirement names the error; both are the
    ///    framework's middleware, except that <see cref="AuthorizationStep"/> lets an endpoint with no policy through and
    ///    admits a caller the token cache holds whom a Feishu policy admits, without a request service scope;
    /// 7. the endpoint's method rate limit, counted for the authorised caller's app only;
    /// 8. a request routing matched to no route answered as the gateway answers it (<see cref="WireErrors.UseGatewayNotFound"/>).
    /// </summary>
    public static WebApplication UseExchangeBridgePipeline(this WebApplication app)
    {
        app.UseLogId();
        app.UseSecurityHeaders();
        app.UseConsoleHeaders();
        app.UseRequestLog();
        app.UseWireErrors();
        app.UseRouting();
        app.UseFeishuAuthorization();
        app.UseMethodRateLimits();
        app.UseGatewayNotFound();
        return app;
    }

    /// <summary>
    /// The Open API, the operator API, the operators' console, health and metrics, the demo's simulator. Anything else is
    /// the gateway's 404, answered by the pipeline's last step rather than a fallback route (see
    /// <see cref="WireErrors.UseGatewayNotFound"/>).
    /// </summary>
    public static IEndpointRouteBuilder MapExchangeBridgeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapAuthApi();
        app.MapExchangeBindingsApi();
        app.MapCalendarsApi();
        app.MapEventInstancesApi();
        app.MapEventAttendeesApi();
        app.MapEventSearchApi();
        app.MapFreeBusyApi();
        app.MapEventSubscriptionsApi();
        app.MapAdminApi();
        app.MapEventsAdminApi();
        app.MapConsole();
        // HEAD too: load balancers probe with it.
        app.MapMethods("/healthz", [HttpMethods.Get, HttpMethods.Head], () => "ok").WithName("Health").WithSummary("Liveness");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapDemoMailboxes();
        return app;
    }
}
