using ExchangeBridge.Server.Admin;
using ExchangeBridge.Server.Bindings;
using ExchangeBridge.Server.Calendars;
using ExchangeBridge.Server.Hosting;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Wire;

var arguments = ServiceRegistration.NormalizeArguments(args);
// The content root is the program's folder, so appsettings.json applies from whatever directory it is started.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = arguments, ContentRootPath = AppContext.BaseDirectory });
builder.RefuseStartupInOneLine();
builder.Configuration.AddCommandLine(arguments, ServiceRegistration.SwitchMappings);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    // Deliberate limits: the largest valid Open API request is a few KiB.
    kestrel.AddServerHeader = false;
    kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
    kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
    kestrel.Limits.MaxRequestHeaderCount = 100;
    kestrel.Limits.MaxRequestLineSize = 16 * 1024;
    kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
    kestrel.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(2);
    // A client trickling its body (slowloris) is cut off: at least 240 bytes a second after a 5-second grace.
    kestrel.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(240, TimeSpan.FromSeconds(5));
    kestrel.Limits.MinResponseDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(240, TimeSpan.FromSeconds(5));
    kestrel.Limits.Http2.MaxStreamsPerConnection = 100;
});
builder.Services.AddExchangeBridge(builder.Configuration);

var app = builder.Build();
await app.Services.GetRequiredService<Bootstrapper>().RunAsync(app.Lifetime.ApplicationStopping);

app.UseLogId();
app.UseSecurityHeaders();
app.UseRequestLog();
app.UseWireErrors();
app.UseDirectDispatch();
app.UseCachedBindingReads();
app.UseRouting();
app.UseAuthentication();
app.UseAuthorization();

app.MapAuthApi();
app.MapExchangeBindingsApi();
app.MapCalendarsApi();
app.MapAdminApi();
app.MapGet("/healthz", () => "ok").WithName("Health").WithSummary("Liveness").DispatchedBeforeRouting();
// Load balancers that probe with HEAD; routed, since only GET and POST are dispatched before routing.
app.MapMethods("/healthz", [HttpMethods.Head], () => "ok").WithName("HealthHead").ExcludeFromDescription();
app.MapPrometheusScrapingEndpoint("/metrics");
if (app.Services.GetService<ExchangeBridge.ExchangeSimulator.MailboxStore>() is { } demoMailboxes)
    DemoMailboxes.Serve(app, demoMailboxes);
app.MapFallback(WireErrors.NotFound);

app.Run();

/// <summary>The entry point, visible to the tests' host.</summary>
public partial class Program;
