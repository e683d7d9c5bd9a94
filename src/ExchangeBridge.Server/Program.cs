using ExchangeBridge.Server.Hosting;

var arguments = ServiceRegistration.NormalizeArguments(args);
// The content root is the program's folder, so appsettings.json applies from whatever directory it is started.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = arguments, ContentRootPath = AppContext.BaseDirectory });
builder.RefuseStartupInOneLine();
builder.Configuration.AddCommandLine(arguments, ServiceRegistration.SwitchMappings);
builder.WebHost.UseExchangeBridgeLimits();
builder.Services.AddExchangeBridge(builder.Configuration);

var app = builder.Build();
await app.Services.GetRequiredService<Bootstrapper>().RunAsync(app.Lifetime.ApplicationStopping);

app.UseExchangeBridgePipeline();
app.MapExchangeBridgeEndpoints();

app.Run();

/// <summary>The entry point, visible to the tests' host.</summary>
public partial class Program;
