using ExchangeBridge.Server.Admin;
using ExchangeBridge.Server.Storage;
using Microsoft.AspNetCore.Mvc;

namespace ExchangeBridge.Server.Console.Pages;

/// <summary>
/// Tenants, their apps and users, through the operator API's rules (<see cref="OperatorService"/>): create a tenant or an
/// app (whose secret is shown on this answer only), add users, grant or remove super administrator, resign or reinstate,
/// and mint an authorization code for testing (shown once too).
/// </summary>
public sealed class TenantsModel(OperatorService operators, AdminStore store) : TenantPage(operators)
{
    public const int UsersShown = 100;

    public IReadOnlyList<AppSummary> Apps { get; private set; } = [];
    public IReadOnlyList<UserRecord> Users { get; private set; } = [];

    [BindProperty(SupportsGet = true)]
    public string? UsersAfter { get; set; }

    /// <summary>A secret or code that this answer, and no other, shows.</summary>
    public (string What, string Value)? ShownOnce { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task OnPostCreateTenantAsync(string name, CancellationToken ct)
    {
        await TryAsync(async () =>
        {
            var tenant = await Operators.CreateTenantAsync(name, null, ct);
            Tenant = tenant.TenantKey;
            return $"Tenant {tenant.Name} ({tenant.TenantKey}) created.";
        });
        await LoadAsync(ct);
    }

    public async Task OnPostCreateAppAsync(string name, bool botEnabled, CancellationToken ct)
    {
        if (await ChooseTenantAsync(ct))
            await TryAsync(async () =>
            {
                var app = await Operators.CreateAppAsync(Tenant!, name, null, botEnabled, ct);
                ShownOnce = ($"app_secret of {app.AppId}", app.AppSecret);
                return $"App {app.Name} ({app.AppId}) created.";
            });
        await LoadAsync(ct);
    }

    public async Task OnPostAddUserAsync(string name, string? userId, string? email, bool superAdmin, CancellationToken ct)
    {
        if (await ChooseTenantAsync(ct))
            await TryAsync(async () =>
            {
                var user = await Operators.CreateUserAsync(Tenant!, new UserCreation(Blank(userId), name, Blank(email), superAdmin), ct);
                return $"User {user.Name} ({user.UserId}) added.";
            });
        await LoadAsync(ct);
    }

    public async Task OnPostStandingAsync(string userId, bool? superAdmin, bool? resigned, CancellationToken ct)
    {
        if (await ChooseTenantAsync(ct))
            await TryAsync(async () =>
            {
                var user = await Operators.UpdateUserAsync(Tenant!, userId, superAdmin, resigned, ct);
                return $"{user.UserId} is {(user.IsSuperAdmin ? "a super administrator" : "not a super administrator")}" +
                       $"{(user.Resigned ? ", resigned (their tokens are revoked)" : "")}.";
            });
        await LoadAsync(ct);
    }

    public async Task OnPostMintCodeAsync(string appId, string userId, CancellationToken ct)
    {
        if (await ChooseTenantAsync(ct))
            await TryAsync(async () =>
            {
                var code = await Operators.MintAuthorizationCodeAsync(appId, null, userId, null, ct);
                ShownOnce = ($"authorization code of {userId} for {appId} (good for {code.ExpiresIn} s, once)", code.Code);
                return "Authorization code minted.";
            });
        await LoadAsync(ct);
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        if (!await ChooseTenantAsync(ct)) return;
        Apps = await store.ListAppsAsync(Tenant!, ct);
        Users = await store.ListUsersAsync(Tenant!, UsersAfter, UsersShown, ct);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
