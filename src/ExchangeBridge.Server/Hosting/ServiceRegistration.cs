using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Ews;
using ExchangeBridge.Graph;
using ExchangeBridge.Server.Admin;
using ExchangeBridge.Server.Bindings;
using ExchangeBridge.Server.Console;
using ExchangeBridge.Server.Events;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Import;
using ExchangeBridge.Server.RateLimits;
using ExchangeBridge.Server.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;

namespace ExchangeBridge.Server.Hosting;

public static class ServiceRegistration
{
    /// <summary>The command line's switches, as configuration keys.</summary>
    public static readonly Dictionary<string, string> SwitchMappings = new()
    {
        ["--data-dir"] = $"{ServerOptions.Section}:{nameof(ServerOptions.DataDir)}",
        ["--demo"] = $"{ServerOptions.Section}:{nameof(ServerOptions.Demo)}",
    };

    /// <summary>Lets "--demo" stand alone on the command line, as a flag.</summary>
    public static string[] NormalizeArguments(string[] args) =>
        args.Select(a => a == "--demo" ? "--demo=true" : a).ToArray();

    public static IServiceCollection AddExchangeBridge(this IServiceCollection services, IConfiguration configuration)
    {
        var options = Settings<ServerOptions>(configuration, ServerOptions.Section, o => o.Validate());
        // A relative folder is the one the server was started in (so is dotnet run's: see the project file), made
        // absolute now, before anything could change the current directory.
        options.DataDir = Path.GetFullPath(options.DataDir);
        DataFolder.Secure(options.DataDir);
        services.AddSingleton<IOptions<ServerOptions>>(Options.Create(options));
        var import = Settings<ImportOptions>(configuration, ImportOptions.Section, o => o.Validate());
        services.AddSingleton<IOptions<ImportOptions>>(Options.Create(import));
        var events = Settings<EventOptions>(configuration, EventOptions.Section, o => o.Validate());
        services.AddSingleton<IOptions<EventOptions>>(Options.Create(events));
        services.AddExchangeBridgeConsole(options, Settings<ConsoleOptions>(configuration, ConsoleOptions.Section, o => o.Validate()));
        var limits = Settings<RateLimitOptions>(configuration, RateLimitOptions.Section, o => o.Validate());
        services.AddSingleton<IOptions<RateLimitOptions>>(Options.Create(limits));
        if (string.IsNullOrWhiteSpace(limits.RedisConnectionString))
            services.AddSingleton<IRateCounter, InProcessRateCounter>();
        else
            services.AddSingleton<IRateCounter>(sp => new RedisRateCounter(
                StackExchange.Redis.ConnectionMultiplexer.Connect(limits.RedisConnectionString), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<RateLimiter>();

        services.AddSingleton(TimeProvider.System);
        // A factory, so the container disposes the database (and its connection pool) with the host.
        services.AddSingleton<IDatabase>(sp => string.IsNullOrWhiteSpace(options.PostgresConnectionString)
            ? StartupRefusals.RefuseIfInvalid(() => new SqliteDatabase(Path.Combine(options.DataDir, "exchangebridge.db"))) // owned by another server
            : new PostgresDatabase(options.PostgresConnectionString,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("ExchangeBridge.Server.Storage.PostgresChangeListener")));
        services.AddSingleton(StartupRefusals.RefuseIfInvalid(() => SecretProtector.FromConfiguration(options.MasterKey, options.DataDir)));
        services.AddSingleton(sp => sp.GetRequiredService<IDatabase>().Changes);
        services.AddSingleton(sp => BindingReadCache.For(sp.GetRequiredService<IDatabase>()));
        services.AddSingleton<IdentityStore>();
        services.AddSingleton<BindingStore>();
        services.AddSingleton<AdminStore>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<ExchangeBindingService>();
        services.AddSingleton<AdminAccountVerifier>();
        services.AddSingleton<OperatorKeys>();
        services.AddSingleton<OperatorService>();
        services.AddSingleton<Bootstrapper>();
        services.AddSingleton<CalendarStore>();
        services.AddSingleton<EventRangeReads>();
        services.AddSingleton<JobStore>();
        services.AddSingleton<AdminAccountConnections>();
        services.AddSingleton<ImportEngine>();
        services.AddSingleton<ImportWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ImportWorker>());
        services.AddHostedService<ExpiredTokenSweeper>();
        services.AddSingleton<ChangeReads>();
        services.AddSingleton<EventSettingsStore>();
        services.AddSingleton<EventDeliveryStore>();
        services.AddSingleton<ChangeLogRetention>();
        services.AddSingleton<EventSender>();
        services.AddHostedService<EventDeliveryWorker>();
        // Pushes to apps' request URLs: an answer later than the platform's 3 seconds counts as a failed push. The URL is the
        // app's to choose, so a redirect is an answer (not 200, so a failure), never a second request to wherever it points,
        // and an answer is read only as far as a challenge echo needs.
        services.AddHttpClient(EventSender.ClientName, client =>
            {
                client.Timeout = TimeSpan.FromSeconds(events.RequestTimeoutSeconds);
                client.MaxResponseContentBufferSize = EventSender.MaxAnswerBytes;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddHostedService<DatabaseShutdown>();

        ExchangeBridgeMetrics.AddExchangeBridgeMetrics(services);

        // Connectors by kind; each admin account names its own endpoint. A request that hangs ends after the import's
        // request timeout (seconds), not HttpClient's 100 s, so a hanging Exchange holds a worker only that long.
        var requestTimeout = TimeSpan.FromSeconds(import.RequestTimeoutSeconds);
        services.AddHttpClient(AdminAccounts.Ews, client => client.Timeout = requestTimeout);
        services.AddKeyedSingleton<IExchangeConnector>(ExchangeConnectorKind.Ews, (sp, _) =>
            new EwsConnector(sp.GetRequiredService<IHttpClientFactory>().CreateClient(AdminAccounts.Ews)));
        // Graph: one client for Graph and its token endpoint (MSAL is handed the same HttpClient).
        services.AddHttpClient(AdminAccounts.Graph, client => client.Timeout = requestTimeout);
        services.AddKeyedSingleton<IExchangeConnector>(ExchangeConnectorKind.Graph, (sp, _) =>
            new GraphConnector(sp.GetRequiredService<IHttpClientFactory>().CreateClient(AdminAccounts.Graph)));
        if (options.Demo) services.AddSingleton(DemoMailboxes.Create());

        // No default scheme: a request is authenticated by the scheme its endpoint's policy names, when authorisation
        // asks, so endpoints without a policy (the token endpoints, health) pay nothing for a scheme they do not use.
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, OperatorKeyHandler>(OperatorKeyHandler.SchemeName, null);
        // Stateless, so one each for the process; the framework's own registrations make two objects per request.
        services.AddSingleton<IAuthorizationService, DefaultAuthorizationService>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.Policy.IPolicyEvaluator, Microsoft.AspNetCore.Authorization.Policy.PolicyEvaluator>();
        services.AddAuthorizationBuilder()
            .AddFeishuPolicies()
            .AddPolicy(OperatorKeyHandler.Policy, p => p.AddAuthenticationSchemes(OperatorKeyHandler.SchemeName).RequireRole("operator"));
        services.AddSingleton<IAuthorizationHandler, FeishuRequirementHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, FeishuAuthorizationResultHandler>();
        // The endpoint middleware's check that authorisation ran reads a mark the framework's authorisation middleware
        // leaves in the request's Items; AuthorizationStep admits a cached caller without that middleware (or the Items
        // it would allocate), and is itself the pipeline's authorisation, on every route (RequestPipeline).
        services.Configure<RouteOptions>(routing => routing.SuppressCheckForUnhandledSecurityMetadata = true);
        return services;
    }

    /// <summary>A section bound and validated; a value of the wrong type or out of range refuses the start.</summary>
    private static T Settings<T>(IConfiguration configuration, string section, Action<T> validate) where T : new() =>
        StartupRefusals.RefuseIfInvalid(() =>
        {
            var settings = configuration.GetSection(section).Get<T>() ?? new T();
            validate(settings);
            return settings;
        });
}
