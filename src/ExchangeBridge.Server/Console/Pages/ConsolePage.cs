using ExchangeBridge.Server.Admin;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBridge.Server.Console.Pages;

/// <summary>
/// A console page that works in one tenant at a time (<c>?tenant=</c>, the first tenant when none is named): every list
/// and action on it is scoped by that tenant, as the operator API's routes are.
/// </summary>
public abstract class TenantPage(OperatorService operators) : PageModel
{
    protected OperatorService Operators { get; } = operators;

    [BindProperty(SupportsGet = true)]
    public string? Tenant { get; set; }

    public IReadOnlyList<TenantView> Tenants { get; private set; } = [];

    /// <summary>What the last action did, or why it was refused (the refusal's own words, from the operator API's rules).</summary>
    public string? Notice { get; protected set; }
    public string? Problem { get; protected set; }

    /// <summary>Reads the tenants and settles which one the page shows; false when there is none.</summary>
    protected async Task<bool> ChooseTenantAsync(CancellationToken ct)
    {
        Tenants = await Operators.ListTenantsAsync(ct);
        if (Tenants.Count == 0) return false;
        if (Tenant is null || Tenants.All(t => t.TenantKey != Tenant)) Tenant = Tenants[0].TenantKey;
        return true;
    }

    /// <summary>Runs an operator action: what it answers becomes <see cref="Notice"/>, a refusal <see cref="Problem"/>.</summary>
    protected async Task<bool> TryAsync(Func<Task<string>> action)
    {
        try
        {
            Notice = await action();
            return true;
        }
        catch (Core.Errors.FeishuException e)
        {
            // The catalog's message with its detail, and the hint the API sends as error.troubleshooter: one source of both.
            Problem = e.Troubleshooter is { } hint ? $"{e.WireMessage}. {hint}" : e.WireMessage;
            return false;
        }
    }
}
