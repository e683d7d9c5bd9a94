using System.Threading.RateLimiting;
using ExchangeBridge.Server.Hosting;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Console;

/// <summary>
/// The operators' console at /console: Razor Pages (Console/Pages) served by the server itself, every asset its own.
/// Signed in with an operator key, then a session cookie of its own scheme; only the console's pages and its live feed
/// accept that cookie (the APIs keep their bearer schemes).
/// </summary>
public static class ConsoleRegistration
{
    public const string Scheme = "ConsoleSession";
    public const string Policy = "console";
    public const string PathPrefix = "/console";
    public const string SignInPath = PathPrefix + "/sign-in";

    /// <summary>
    /// What a console page may load: only this server's own scripts, styles and images (no inline script or style, nothing
    /// from elsewhere), posted only to itself, framed by nobody.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

    public static IServiceCollection AddExchangeBridgeConsole(this IServiceCollection services, ServerOptions server, ConsoleOptions console)
    {
        services.AddSingleton<IOptions<ConsoleOptions>>(Options.Create(console));
        services.AddSingleton<ConsoleStore>();
        services.AddSingleton(_ => new SignInLimiter(console));

        // Session cookies and antiforgery tokens are sealed with ASP.NET Core data protection; its keys live in the
        // (owner-only) data folder so that sessions survive a restart.
        var keys = Directory.CreateDirectory(Path.Combine(server.DataDir, "console-keys"));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keys.FullName, DataFolder.OwnerOnlyFolder);
        services.AddDataProtection().SetApplicationName("ExchangeBridge").PersistKeysToFileSystem(keys);

        services.AddAuthentication().AddCookie(Scheme, cookie =>
        {
            cookie.Cookie.Name = "exbridge_console";
            cookie.Cookie.Path = PathPrefix;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            // The session ends a fixed time after sign-in, whatever the browser keeps.
            cookie.ExpireTimeSpan = TimeSpan.FromMinutes(console.SessionMinutes);
            cookie.SlidingExpiration = false;
            cookie.LoginPath = SignInPath;
            cookie.AccessDeniedPath = SignInPath;
            cookie.ReturnUrlParameter = "return";
        });
        // The session's expiry is read on the server's clock (the tests' clock in tests).
        services.AddOptions<CookieAuthenticationOptions>(Scheme).Configure<TimeProvider>((cookie, clock) => cookie.TimeProvider = clock);
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireRole(SignInLimiter.OperatorRole));

        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "exbridge_console_antiforgery";
            antiforgery.Cookie.Path = PathPrefix;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            antiforgery.FormFieldName = "__RequestVerificationToken";
        });
        services.AddRazorPages(pages =>
            {
                pages.RootDirectory = "/Console/Pages";
                pages.Conventions.AuthorizeFolder("/", Policy);
                pages.Conventions.AllowAnonymousToPage("/SignIn");
            })
            // The pages are compiled into this assembly; a host whose entry assembly is another (the tests') finds them too.
            .ConfigureApplicationPartManager(parts =>
            {
                var assembly = typeof(ConsoleRegistration).Assembly;
                if (!parts.ApplicationParts.OfType<AssemblyPart>().Any(p => p.Assembly == assembly)) parts.ApplicationParts.Add(new AssemblyPart(assembly));
            });
        return services;
    }

    /// <summary>The console's own headers, on every answer under /console (its 404s and refusals included).</summary>
    public static IApplicationBuilder UseConsoleHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.Path.StartsWithSegments(PathPrefix))
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
        }
        return next(context);
    });

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapRazorPages();
        endpoints.MapGet(PathPrefix + "/assets/{name}", ConsoleAssets.Serve).WithName("ConsoleAsset").WithSummary("The console's stylesheet and script");
        endpoints.MapGet(PathPrefix + "/live", ConsoleLive.StreamAsync).RequireAuthorization(Policy)
            .WithName("ConsoleLive").WithSummary("Server-sent events: the shown bindings' status as it changes");
        return endpoints;
    }
}

/// <summary>
/// Sign-in attempts per source address, counted by a fixed-window limiter (System.Threading.RateLimiting): a guesser gets
/// <see cref="ConsoleOptions.SignInAttempts"/> tries per window, then 429 until the window turns.
/// </summary>
public sealed class SignInLimiter(ConsoleOptions options) : IDisposable
{
    public const string OperatorRole = "operator";

    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(source =>
        RateLimitPartition.GetFixedWindowLimiter(source, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.SignInAttempts,
            Window = TimeSpan.FromSeconds(options.SignInWindowSeconds),
            QueueLimit = 0,
        }));

    /// <summary>Whether <paramref name="context"/>'s source may try once more now (the try is counted).</summary>
    public bool TryAttempt(HttpContext context)
    {
        using var lease = _limiter.AttemptAcquire(context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        return lease.IsAcquired;
    }

    public TimeSpan RetryAfter => TimeSpan.FromSeconds(options.SignInWindowSeconds);

    public void Dispose() => _limiter.Dispose();
}
