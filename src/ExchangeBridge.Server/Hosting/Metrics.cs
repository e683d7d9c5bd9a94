using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace ExchangeBridge.Server.Hosting;

/// <summary>
/// What operators watch: bindings made and removed, import jobs by outcome, events imported. No tenant or user
/// appears in a label. Exported with ASP.NET Core's request metrics and the runtime's own in Prometheus' format at /metrics.
/// </summary>
public sealed class ExchangeBridgeMetrics
{
    public const string MeterName = "ExchangeBridge";
    private const string AspNetCoreHostingMeter = "Microsoft.AspNetCore.Hosting";
    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";
    /// <summary>The runtime's own meter: CPU time, GC collections, pauses and bytes allocated, heap and working set.</summary>
    private const string RuntimeMeter = "System.Runtime";
    private readonly Counter<long> _bindingsCreated;
    private readonly Counter<long> _bindingsDeleted;
    private readonly Counter<long> _jobs;
    private readonly Counter<long> _eventsImported;

    public ExchangeBridgeMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _bindingsCreated = meter.CreateCounter<long>("exchangebridge.bindings.created", description: "Bindings created");
        _bindingsDeleted = meter.CreateCounter<long>("exchangebridge.bindings.deleted", description: "Bindings removed");
        _jobs = meter.CreateCounter<long>("exchangebridge.import.jobs", description: "Import job runs, by outcome");
        _eventsImported = meter.CreateCounter<long>("exchangebridge.import.events", description: "Events written by imports and syncs");
    }

    public void BindingCreated() => _bindingsCreated.Add(1);
    public void BindingDeleted() => _bindingsDeleted.Add(1);
    public void JobFinished(string outcome) => _jobs.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
    public void EventsImported(int count) => _eventsImported.Add(count);

    public static IServiceCollection AddExchangeBridgeMetrics(IServiceCollection services)
    {
        services.AddSingleton<ExchangeBridgeMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            // Requests (duration, in flight) and connections. ASP.NET Core's other meters (authentication, authorisation,
            // routing, memory pool) each record on every request, together more than a microsecond, and tell an
            // operator nothing the request duration by route and status does not: they are left unheard, so off.
            .AddMeter(AspNetCoreHostingMeter, KestrelMeter)
            .AddMeter(MeterName)
            // Observed only when scraped, so free between scrapes: what the process costs (CPU, allocations, GC pauses).
            .AddMeter(RuntimeMeter)
            .AddPrometheusExporter());
        return services;
    }
}
