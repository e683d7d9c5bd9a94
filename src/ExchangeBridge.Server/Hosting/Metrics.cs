using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace ExchangeBridge.Server.Hosting;

/// <summary>
/// What operators watch: bindings made and removed, import jobs by outcome, events imported. No tenant or user
/// appears in a label. Exported with ASP.NET Core's request metrics in Prometheus' format at /metrics.
/// </summary>
public sealed class ExchangeBridgeMetrics
{
    public const string MeterName = "ExchangeBridge";
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
            .AddAspNetCoreInstrumentation()
            .AddMeter(MeterName)
            .AddPrometheusExporter());
        return services;
    }
}
