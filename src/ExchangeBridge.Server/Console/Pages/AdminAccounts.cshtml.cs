using ExchangeBridge.Server.Admin;
using Microsoft.AspNetCore.Mvc;

namespace ExchangeBridge.Server.Console.Pages;

/// <summary>
/// A tenant's Exchange admin accounts: register or edit one (EWS or Graph) and verify it, through the operator API's own
/// rules (<see cref="OperatorService"/>). A secret is write-only: the form never shows one, the list says only its kind.
/// </summary>
public sealed class AdminAccountsModel(OperatorService operators) : TenantPage(operators)
{
    public IReadOnlyList<AdminAccountView> Accounts { get; private set; } = [];

    /// <summary>The register form; its secret fields are cleared before the page is written.</summary>
    [BindProperty]
    public AdminAccountForm Form { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? Edit { get; set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        if (!await ChooseTenantAsync(ct)) return;
        if (Edit is not null && await TryFindAsync(Edit, ct) is { } account) Form = AdminAccountForm.From(account);
        Accounts = await Operators.ListAdminAccountsAsync(Tenant!, ct);
    }

    public async Task OnPostRegisterAsync(CancellationToken ct)
    {
        if (await ChooseTenantAsync(ct))
            await TryAsync(async () =>
            {
                var account = await Operators.RegisterAdminAccountAsync(Tenant!, Form.Email ?? "", Form.ToRegistration(), ct);
                return account.VerificationError is null
                    ? $"{account.Email} is registered and {account.VerificationState}."
                    : $"{account.Email} is registered but {account.VerificationState}: {account.VerificationError}";
            });
        Form.Secret = null;
        Form.Certificate = null;
        if (Tenant is not null) Accounts = await Operators.ListAdminAccountsAsync(Tenant, ct);
    }

    public async Task OnPostVerifyAsync(string email, CancellationToken ct)
    {
        if (await ChooseTenantAsync(ct))
            await TryAsync(async () =>
            {
                var account = await Operators.VerifyAdminAccountAsync(Tenant!, email, ct);
                return account.VerificationError is null ? $"{account.Email} verifies." : $"{account.Email} failed: {account.VerificationError}";
            });
        if (Tenant is not null) Accounts = await Operators.ListAdminAccountsAsync(Tenant, ct);
    }

    private async Task<AdminAccountView?> TryFindAsync(string email, CancellationToken ct)
    {
        try
        {
            return await Operators.GetAdminAccountAsync(Tenant!, email, ct);
        }
        catch (Core.Errors.FeishuException)
        {
            return null;
        }
    }
}

/// <summary>The register form's fields (the operator API's body, as a form).</summary>
public sealed class AdminAccountForm
{
    public string? Email { get; set; }
    public string Connector { get; set; } = AdminAccounts.Ews;
    public string? Endpoint { get; set; }
    public string? Username { get; set; }
    public string? Secret { get; set; }
    public string? Certificate { get; set; }
    public string? GraphTenantId { get; set; }
    public string? GraphClientId { get; set; }
    public bool AllowCleartextPassword { get; set; }

    public AdminAccountRegistration ToRegistration() => new(Connector, Endpoint ?? "", Blank(Username), Blank(Secret), Blank(Certificate),
        Blank(GraphTenantId), Blank(GraphClientId), AllowCleartextPassword);

    /// <summary>An account's settings to edit; its secret is not among them (write-only), so editing means giving it again.</summary>
    public static AdminAccountForm From(AdminAccountView account) => new()
    {
        Email = account.Email, Connector = account.Connector, Endpoint = account.Endpoint, Username = account.Username,
        AllowCleartextPassword = account.AllowCleartextPassword,
    };

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
