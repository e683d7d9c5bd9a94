using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBridge.Server.Console.Pages;

/// <summary>The overview: bindings by status per tenant, the import rate over the last hour, late syncs, failing admin accounts.</summary>
public sealed class IndexModel(ConsoleStore store) : PageModel
{
    public IReadOnlyList<TenantStatusCount> Counts { get; private set; } = [];
    public EventsChart Chart { get; private set; } = null!;
    public IReadOnlyList<LateBinding> Late { get; private set; } = [];
    public IReadOnlyList<FailingAdminAccount> FailingAdminAccounts { get; private set; } = [];

    /// <summary>The tenants with their counts, in the order the store gave them.</summary>
    public IEnumerable<IGrouping<(string Key, string Name), TenantStatusCount>> Tenants => Counts.GroupBy(c => (Key: c.TenantKey, Name: c.TenantName));

    public async Task OnGetAsync(CancellationToken ct)
    {
        Counts = await store.StatusCountsAsync(ct);
        Chart = new EventsChart(await store.EventsPerMinuteAsync(ct));
        Late = await store.LateAsync(20, ct);
        FailingAdminAccounts = await store.FailingAdminAccountsAsync(ct);
    }
}

/// <summary>Events per minute as the bars of a server-drawn SVG chart (no script, nothing fetched).</summary>
public sealed class EventsChart(long[] perMinute)
{
    public const int Width = 720;
    public const int Height = 180;
    public const int Left = 44;
    public const int Bottom = 24;
    public const int Top = 8;

    public long[] PerMinute { get; } = perMinute;
    public long Total => PerMinute.Sum();
    public long Peak => Math.Max(1, PerMinute.Max());
    public double BarWidth => (double)(Width - Left) / PerMinute.Length;

    public (double X, double Y, double Width, double Height) Bar(int minute)
    {
        var height = (Height - Bottom - Top) * PerMinute[minute] / (double)Peak;
        return (Left + minute * BarWidth + 1, Height - Bottom - height, Math.Max(1, BarWidth - 2), height);
    }
}
