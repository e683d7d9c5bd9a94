using ExchangeBridge.Server.Events;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Events;

/// <summary>
/// The change log written in chunks of rows per statement: a write of more changes than one chunk holds keeps their order
/// and numbers, and a sync_token reads them back as written, on either engine.
/// </summary>
public sealed class ChangeLogTests() : ServerTests(new TestServer())
{

    [Fact]
    public async Task More_changes_than_one_statement_holds_are_logged_in_order_with_consecutive_numbers()
    {
        var calendar = new CalendarOwner("feishu.cn_changelog@group.calendar.feishu.cn", Server.Bootstrap.TenantKey, Server.Bootstrap.AdminUserId);
        var changes = Enumerable.Range(0, 150).Select(i => new EventChange($"event-{i:D3}",
            i % 3 == 2 ? ChangeTypes.Delete : ChangeTypes.Create, i % 3 == 2 ? $$"""{"summary":"removed {{i}}"}""" : null)).ToList();
        var database = Server.Services.GetRequiredService<IDatabase>();
        var now = Server.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        await database.WriteAsync(Touched.Nothing, async (c, tx, ct) =>
        {
            await ChangeLog.RecordEventChangesAsync(database, c, tx, calendar, changes[..100], now, ct);
            await ChangeLog.RecordEventChangesAsync(database, c, tx, calendar, changes[100..], now, ct);
            return 0;
        });

        var logged = await Server.Services.GetRequiredService<ChangeReads>().EventChangesAsync(calendar.CalendarId, 0, 1000, default);
        Assert.Equal(Enumerable.Range(1, 150).Select(i => (long)i), logged.Select(r => r.Seq));
        Assert.Equal(changes.Select(c => c.EventId), logged.Select(r => r.EventId));
        Assert.Equal(changes.Select(c => c.RemovedPayload), logged.Select(r => r.RemovedPayload));
    }
}
