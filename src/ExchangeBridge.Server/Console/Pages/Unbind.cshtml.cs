using ExchangeBridge.Server.Admin;
using ExchangeBridge.Server.Bindings;
using Microsoft.AspNetCore.Mvc;

namespace ExchangeBridge.Server.Console.Pages;

/// <summary>Unbind, after a confirmation: the same removal as the Open API's DELETE (its calendars and events go too).</summary>
public sealed class UnbindModel(OperatorService operators, ConsoleStore store, ExchangeBindingService bindings) : TenantPage(operators)
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    public ConsoleBindingRow? Row { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!await ChooseTenantAsync(ct)) return NotFound();
        Row = await store.FindAsync(Tenant!, Id, ct);
        return Row is null ? NotFound() : Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!await ChooseTenantAsync(ct)) return NotFound();
        Row = await store.FindAsync(Tenant!, Id, ct);
        if (Row is null) return NotFound();
        await bindings.DeleteAsync(Tenant!, Id, ct);
        return LocalRedirect($"/console/bindings?tenant={Uri.EscapeDataString(Tenant!)}&unbound={Uri.EscapeDataString(Row.ExchangeAccount)}");
    }
}
