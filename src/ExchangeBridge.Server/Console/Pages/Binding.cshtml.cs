using ExchangeBridge.Server.Admin;
using Microsoft.AspNetCore.Mvc;

namespace ExchangeBridge.Server.Console.Pages;

/// <summary>
/// One binding: its stages with times, its calendars with their event counts, how its sync stands, why it needs attention
/// (the import's reason, which says what to do) and the actions retry and unbind.
/// </summary>
public sealed class BindingModel(OperatorService operators, ConsoleStore store) : TenantPage(operators)
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public int? Retried { get; set; }

    public ConsoleBindingRow? Row { get; private set; }
    public BindingDiagnostics? Diagnostics { get; private set; }

    public string LiveUrl => $"/console/live?tenant={Uri.EscapeDataString(Tenant ?? "")}&keys={Row?.Id}";

    public string Self => $"/console/binding?tenant={Uri.EscapeDataString(Tenant ?? "")}&id={Uri.EscapeDataString(Id)}";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (Retried is { } retried)
            Notice = retried > 0 ? "Retry asked: its next attempt runs now." : "Nothing to retry: the binding is neither err nor retrying after a fault.";
        if (!await ChooseTenantAsync(ct)) return NotFound();
        Row = await store.FindAsync(Tenant!, Id, ct);
        if (Row is null) return NotFound();
        Diagnostics = await Operators.GetBindingDiagnosticsAsync(Tenant!, Id, ct);
        return Page();
    }

    /// <summary>Retry now, as <c>POST /admin/v1/tenants/{t}/exchange_bindings/retry</c> and <c>exbridge retry</c> do.</summary>
    public async Task<IActionResult> OnPostRetryAsync(CancellationToken ct)
    {
        if (!await ChooseTenantAsync(ct)) return NotFound();
        var retried = await Operators.RetryBindingsAsync(Tenant!, Id, ct);
        return LocalRedirect($"{Self}&retried={retried.Retried}");
    }
}
