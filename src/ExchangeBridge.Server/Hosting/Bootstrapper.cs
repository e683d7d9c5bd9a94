using System.Text.Json;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Admin;
using ExchangeBridge.Server.Bindings;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Hosting;

/// <summary>What an operator needs to start with, written once to DATA_DIR/bootstrap.json (owner-only).</summary>
public sealed record BootstrapFile(
    string OperatorKey, string TenantKey, string AppId, string AppSecret,
    string AdminUserId, string AdminUnionId, string AdminOpenId);

/// <summary>
/// Start-up data: the schema, then on an empty database a bootstrap tenant, app, super administrator and operator
/// key; with --demo, the seed page's example admin account and user.
/// </summary>
public sealed partial class Bootstrapper(
    IDatabase database, AdminStore admin, SecretProtector protector, TimeProvider clock, IOptions<ServerOptions> options,
    ILogger<Bootstrapper> logger)
{
    public const string DemoAdminAccount = "email_admin_example@outlook.com";
    public const string DemoExchangeAccount = "email_account_example@outlook.com";
    public const string DemoOpenId = "ou_xxxxxxxxxxxxxxxxxx";
    public const string DemoUserId = "demo_employee";

    private string BootstrapPath => Path.Combine(options.Value.DataDir, "bootstrap.json");

    public async Task RunAsync(CancellationToken ct)
    {
        // Instances starting together on one PostgreSQL take turns: one migrates and bootstraps, the others find it done.
        await using var migrationLock = await database.AcquireMigrationLockAsync(ct);
        await Migrator.MigrateAsync(database, ct);
        if (await admin.IsEmptyAsync(ct)) await CreateBootstrapDataAsync(ct);
        if (options.Value.Demo) await EnsureDemoDataAsync(ct);
    }

    private async Task CreateBootstrapDataAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var tenantKey = AdminStore.NewTenantKey();
        await admin.CreateTenantAsync(tenantKey, "Bootstrap tenant", now, ct);
        var appId = AdminStore.NewAppId();
        var appSecret = OpaqueSecrets.NewAlphanumeric(32);
        await admin.CreateAppAsync(appId, tenantKey, "ExchangeBridge", protector.Protect(appSecret), string.Join(' ', Scopes.Default),
            botEnabled: false, now, ct);
        var user = new UserRecord
        {
            TenantKey = tenantKey, UserId = "admin", UnionId = AdminStore.NewUnionId(), Name = "Super Administrator",
            IsSuperAdmin = true,
        };
        await admin.CreateUserAsync(user, now, ct);
        var (_, openIds) = (await admin.FindUserAsync(tenantKey, user.UserId, ct))!.Value;
        var operatorKey = "ok-" + OpaqueSecrets.NewAlphanumeric(40);
        await admin.AddOperatorKeyAsync(OpaqueSecrets.Hash(operatorKey), now, ct);

        var file = new BootstrapFile(operatorKey, tenantKey, appId, appSecret, user.UserId, user.UnionId, openIds[0].OpenId);
        await using (var stream = new FileStream(BootstrapPath, DataFolder.OwnerOnly(FileMode.Create, FileAccess.Write)))
            await JsonSerializer.SerializeAsync(stream, file, FeishuJsonContext.Default.BootstrapFile, ct);
        LogBootstrapped(logger, tenantKey, appId, BootstrapPath);
    }

    /// <summary>Idempotent: the seed's example admin account (served by the built-in Exchange simulator) and employee.</summary>
    private async Task EnsureDemoDataAsync(CancellationToken ct)
    {
        var bootstrap = await ReadBootstrapAsync(ct);
        if (bootstrap is null)
        {
            LogNoBootstrapForDemo(logger, BootstrapPath);
            return;
        }
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (await admin.FindUserAsync(bootstrap.TenantKey, DemoUserId, ct) is null)
        {
            await admin.CreateUserAsync(new UserRecord
            {
                TenantKey = bootstrap.TenantKey, UserId = DemoUserId, UnionId = AdminStore.NewUnionId(), Name = "Example Employee",
                Email = DemoExchangeAccount,
            }, now, ct);
        }
        await admin.SetOpenIdAsync(bootstrap.TenantKey, bootstrap.AppId, DemoUserId, DemoOpenId, ct);
        await admin.UpsertAdminAccountAsync(new AdminAccountRecord
        {
            Email = DemoAdminAccount, TenantKey = bootstrap.TenantKey, Connector = AdminAccounts.Ews,
            Endpoint = DemoEndpoint, Username = DemoAdminAccount, SecretProtected = protector.Protect(DemoAdminPassword),
            VerificationState = AdminAccountStates.Verified,
            // The demo's simulator is this very process, on loopback: nothing leaves the machine.
            AllowCleartextPassword = true,
        }, now, ct);
        LogDemo(logger, DemoAdminAccount, DemoOpenId);
    }

    /// <summary>Where the demo's admin account points: the simulator this server hosts (see the README).</summary>
    public static string DemoEndpoint => "http://127.0.0.1/EWS/Exchange.asmx";
    public const string DemoAdminPassword = "demo-admin-password";

    public async Task<BootstrapFile?> ReadBootstrapAsync(CancellationToken ct)
    {
        if (!File.Exists(BootstrapPath)) return null;
        await using var stream = File.OpenRead(BootstrapPath);
        return await JsonSerializer.DeserializeAsync(stream, FeishuJsonContext.Default.BootstrapFile, ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Bootstrapped tenant {TenantKey} and app {AppId}; credentials written to {Path}")]
    private static partial void LogBootstrapped(ILogger logger, string tenantKey, string appId, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "--demo needs {Path}, written on the first start of an empty data folder; demo data skipped")]
    private static partial void LogNoBootstrapForDemo(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo data ready: admin account {AdminAccount}, user open_id {OpenId}")]
    private static partial void LogDemo(ILogger logger, string adminAccount, string openId);
}
