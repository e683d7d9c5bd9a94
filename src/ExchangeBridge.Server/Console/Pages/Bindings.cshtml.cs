using System.Globalization;
using ExchangeBridge.Server.Admin;
using Microsoft.AspNetCore.Mvc;

namespace ExchangeBridge.Server.Console.Pages;

/// <summary>A tenant's bindings, filtered and paged by id (keyset: as fast on page 400 as on page 1), with their status live.</summary>
public sealed class BindingsModel(OperatorService operators, ConsoleStore store) : TenantPage(operators)
{
    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Admin { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public long? After { get; set; }

    [BindProperty(SupportsGet = true)]
    public long? Before { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Unbound { get; set; }

    public BindingPage? Results { get; private set; }

    /// <summary>The live feed of the shown rows (see <see cref="ConsoleLive"/>).</summary>
    public string LiveUrl => $"/console/live?tenant={Uri.EscapeDataString(Tenant ?? "")}&keys=" +
                             string.Join(',', Results?.Rows.Select(r => r.Id.ToString(CultureInfo.InvariantCulture)) ?? []);

    public async Task OnGetAsync(CancellationToken ct)
    {
        if (Unbound is not null) Notice = $"{Unbound} was unbound; what it imported is being removed.";
        if (!await ChooseTenantAsync(ct)) return;
        Results = await store.PageAsync(new BindingFilter(Tenant!, Status, Admin, Q), After, Before, ct);
    }

    /// <summary>This page's address with the same filters, paged to <paramref name="after"/> or <paramref name="before"/>.</summary>
    public string PageUrl(long? after, long? before)
    {
        var query = new List<string> { $"tenant={Uri.EscapeDataString(Tenant ?? "")}" };
        if (!string.IsNullOrEmpty(Status)) query.Add($"status={Uri.EscapeDataString(Status)}");
        if (!string.IsNullOrEmpty(Admin)) query.Add($"admin={Uri.EscapeDataString(Admin)}");
        if (!string.IsNullOrEmpty(Q)) query.Add($"q={Uri.EscapeDataString(Q)}");
        if (after is { } a) query.Add($"after={a.ToString(CultureInfo.InvariantCulture)}");
        if (before is { } b) query.Add($"before={b.ToString(CultureInfo.InvariantCulture)}");
        return "/console/bindings?" + string.Join('&', query);
    }
}
