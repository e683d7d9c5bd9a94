using Dapper;
using ExchangeBridge.Server.Console;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Console;

/// <summary>
/// The console's reads on a real database: keyset pages that cover a tenant's bindings exactly once in either direction,
/// filters (status, late, admin account, text with its wildcards taken literally), tenant scoping, and the stage times the
/// import records.
/// </summary>
public sealed class ConsoleStoreTests() : ServerTests(new TestServer(demo: false))
{
    private const int Bindings = 120;
    private const string OtherTenant = "other-tenant";
    private ConsoleStore Store => Server.Services.GetRequiredService<ConsoleStore>();
    private string Tenant => Server.Bootstrap.TenantKey;
    private long Now => Server.Clock.GetUtcNow().ToUnixTimeMilliseconds();

    public override async Task InitializeAsync()
    {
        var now = Now;
        // Every third err; every fifth retrying after a fault (a last error); every seventh done but not synced for an hour.
        var rows = Enumerable.Range(1, Bindings).Select(i => new
        {
            tenant = Tenant, user = $"u{i:D3}", union = $"on_store_{i}", account = i == 7 ? "under_score%@contoso.com" : $"employee{i}@contoso.com",
            id = $"binding-{i}", admin = i % 2 == 0 ? "Even-Admin@contoso.com" : "odd-admin@contoso.com",
            status = i % 3 == 0 ? "err" : "done", reason = i % 3 == 0 ? "MailboxNotFound: no such mailbox" : null,
            synced = i % 7 == 0 ? now - 3_600_000 : now, error = i % 5 == 0 ? "Transient: reset" : null, now,
        }).ToList();
        await Server.Services.GetRequiredService<IDatabase>().WriteAsync(Touched.Nothing, async (c, tx, _) =>
        {
            await c.ExecuteAsync("INSERT INTO tenants (tenant_key, name, created_at) VALUES (@OtherTenant, 'Other', 0)", new { OtherTenant }, tx);
            await c.ExecuteAsync(
                "INSERT INTO users (tenant_key, user_id, union_id, name, is_super_admin, created_at) VALUES (@tenant, @user, @union, @user, FALSE, @now)",
                rows, tx);
            await c.ExecuteAsync(
                """
                INSERT INTO exchange_bindings (exchange_binding_id, tenant_key, admin_account, exchange_account, exchange_account_key, user_id,
                    status, error_reason, created_at, updated_at, last_synced_at)
                VALUES (@id, @tenant, @admin, @account, @account, @user, @status, @reason, @now, @now, @synced)
                """, rows, tx);
            // Another tenant's binding, with the same kind of address: never shown in this tenant's pages.
            await c.ExecuteAsync(
                """
                INSERT INTO exchange_bindings (exchange_binding_id, tenant_key, admin_account, exchange_account, exchange_account_key, user_id,
                    status, created_at, updated_at)
                VALUES ('elsewhere', @OtherTenant, 'odd-admin@contoso.com', 'employee1@contoso.com', 'employee1@contoso.com', 'u001', 'err', 0, 0)
                """, new { OtherTenant }, tx);
            return await c.ExecuteAsync(
                """
                INSERT INTO sync_jobs (binding_key, tenant_key, kind, state, run_at, attempts, last_error, created_at, updated_at)
                SELECT b.id, b.tenant_key, 'import', 'queued', @now, 0, NULL, @now, @now FROM exchange_bindings b
                """, new { now }, tx);
        });
        foreach (var row in rows.Where(r => r.error is not null))
            await Server.Services.GetRequiredService<IDatabase>().WriteAsync(Touched.Nothing, (c, tx, _) => c.ExecuteAsync(
                "UPDATE sync_jobs SET last_error = @error WHERE binding_key = (SELECT id FROM exchange_bindings WHERE exchange_binding_id = @id)",
                new { row.error, row.id }, tx));
    }

    [Fact]
    public async Task Pages_forward_and_back_cover_the_tenants_bindings_once_each_in_order()
    {
        var seen = new List<string>();
        BindingPage page;
        long? after = null;
        do
        {
            page = await Store.PageAsync(new BindingFilter(Tenant), after, null, CancellationToken.None);
            Assert.Equal(Bindings, page.Total);
            Assert.Equal(after is not null, page.HasPrevious);
            seen.AddRange(page.Rows.Select(r => r.ExchangeBindingId));
            after = page.Rows[^1].Id;
        }
        while (page.HasNext);
        Assert.Equal(Enumerable.Range(1, Bindings).Select(i => $"binding-{i}"), seen);

        // Back from the last page: the page before it, whole, in the same order, with more before it still.
        var back = await Store.PageAsync(new BindingFilter(Tenant), null, page.Rows[0].Id, CancellationToken.None);
        Assert.Equal(seen.Skip(Bindings - page.Rows.Count - ConsoleStore.PageSize).Take(ConsoleStore.PageSize), back.Rows.Select(r => r.ExchangeBindingId));
        Assert.True(back.HasNext);
        Assert.True(back.HasPrevious);
    }

    [Fact]
    public async Task Filters_narrow_by_status_lateness_admin_account_and_text()
    {
        async Task<IReadOnlyList<ConsoleBindingRow>> All(BindingFilter filter) =>
            (await Store.PageAsync(filter, null, null, CancellationToken.None)).Rows;

        Assert.All(await All(new BindingFilter(Tenant, Status: "err")), r => Assert.Equal("err", r.Status));
        Assert.Equal(Bindings / 3, (await Store.PageAsync(new BindingFilter(Tenant, Status: "err"), null, null, CancellationToken.None)).Total);

        // Late: not err, and either retrying after a fault or done with a sync older than the interval allows.
        var late = (await All(new BindingFilter(Tenant, Status: BindingFilter.Late))).Select(r => r.ExchangeBindingId).ToHashSet();
        var expected = Enumerable.Range(1, Bindings).Where(i => i % 3 != 0 && (i % 5 == 0 || i % 7 == 0)).Select(i => $"binding-{i}").ToHashSet();
        Assert.Equal(expected, late);
        Assert.All(await All(new BindingFilter(Tenant, Status: BindingFilter.Late)), r => Assert.True(r.IsLate));

        Assert.All(await All(new BindingFilter(Tenant, AdminAccount: "EVEN-admin@contoso.com")), r => Assert.Equal("Even-Admin@contoso.com", r.AdminAccount));
        Assert.Equal(["binding-7"], (await All(new BindingFilter(Tenant, Text: "_score%"))).Select(r => r.ExchangeBindingId));
        Assert.Empty(await All(new BindingFilter(Tenant, Text: "employee%1")));   // % is a character here, not a wildcard
        Assert.Equal(["binding-12"], (await All(new BindingFilter(Tenant, Text: "u012"))).Select(r => r.ExchangeBindingId));
        Assert.DoesNotContain("elsewhere", (await All(new BindingFilter(Tenant, Text: "employee1@"))).Select(r => r.ExchangeBindingId));
        Assert.Empty(await Store.RowsAsync(Tenant, [(await Store.FindAsync(OtherTenant, "elsewhere", CancellationToken.None))!.Id], CancellationToken.None));
    }

    [Fact]
    public async Task Each_stage_the_import_reaches_is_recorded_with_its_time()
    {
        var calendars = Server.Services.GetRequiredService<CalendarStore>();
        var key = (await Store.FindAsync(Tenant, "binding-1", CancellationToken.None))!.Id;
        var start = Now;
        await calendars.SetBindingStatusAsync(key, "cal_done", null, start + 1, CancellationToken.None);
        await calendars.SetBindingStatusAsync(key, "timespan_done", null, start + 2, CancellationToken.None);
        await calendars.SetBindingStatusAsync(key, "done", null, start + 3, CancellationToken.None);
        await calendars.SetBindingStatusAsync(key, "done", null, start + 4, CancellationToken.None);

        var row = (await Store.FindAsync(Tenant, "binding-1", CancellationToken.None))!;
        Assert.Equal((start + 1, start + 2, start + 3), (row.CalDoneAt, row.TimespanDoneAt, row.ImportedAt));
    }
}
