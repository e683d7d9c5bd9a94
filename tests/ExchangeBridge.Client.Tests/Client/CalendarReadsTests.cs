using ExchangeBridge.Client.Tests.Infrastructure;

namespace ExchangeBridge.Client.Tests.Client;

/// <summary>A server whose import worker runs, so the demo mailbox (the seed's example account) is imported once bound.</summary>
public sealed class ImportingServer() : ServerFixture(new Dictionary<string, string> { ["ExchangeBridge__Import__Workers"] = "1" });

/// <summary>
/// The client's typed calendar reads against the demo mailbox imported: its owner's instance view (the weekly sync
/// expanded, its moved occurrence in place) and a colleague's free/busy of it, times only.
/// </summary>
public sealed class CalendarReadsTests(ImportingServer fixture) : IClassFixture<ImportingServer>, IAsyncLifetime
{
    private const string Employee = "ou_xxxxxxxxxxxxxxxxxx";
    private FeishuClient _admin = null!;
    private FeishuClient _employee = null!;

    private ServerProcess Server => fixture.Server;

    public async Task InitializeAsync()
    {
        _admin = await Server.SuperAdminClientAsync();
        var binding = await _admin.CreateExchangeBindingAsync(new("email_admin_example@outlook.com", "email_account_example@outlook.com", Employee));
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await _admin.GetExchangeBindingAsync(binding.ExchangeBindingId)).Status != "done")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the demo mailbox was not imported within a minute");
            await Task.Delay(50);
        }
        _employee = new FeishuClient(Server.ClientOptions());
        await _employee.ExchangeAuthorizationCodeAsync(await Server.MintCodeAsync(Employee));
    }

    public Task DisposeAsync()
    {
        _admin.Dispose();
        _employee.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_instance_view_has_the_weekly_sync_week_by_week_with_its_moved_occurrence()
    {
        var calendar = await _employee.GetCalendarsAsync().FirstAsync(c => c.Summary == "Calendar");
        var now = DateTimeOffset.UtcNow;
        var instances = await _employee.GetInstanceViewAsync(calendar.CalendarId, now, now.AddDays(30));

        var syncs = instances.Where(i => i.Summary!.StartsWith("Weekly sync", StringComparison.Ordinal)).ToList();
        Assert.True(syncs.Count >= 4, string.Join(", ", syncs.Select(s => s.EventId)));
        Assert.Single(syncs.Select(s => s.RecurringEventId).Distinct());
        Assert.Contains(syncs, s => s is { Summary: "Weekly sync (moved)", IsException: true });
        Assert.Contains(syncs, s => s.Status == "cancelled");
        Assert.Equal(syncs.Count, syncs.Select(s => s.EventId).Distinct().Count());
        var error = await Assert.ThrowsAsync<FeishuApiException>(() => _employee.GetInstanceViewAsync(calendar.CalendarId, now, now.AddDays(41)));
        Assert.Equal(193103, error.Code);
    }

    [Fact]
    public async Task A_colleague_reads_busy_times_only_for_one_user_or_several()
    {
        var query = new FreeBusyQuery(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(14)) { NeedRsvpStatus = true };
        var slots = await _admin.GetFreeBusyAsync(Employee, query);

        Assert.True(slots.Count >= 3, string.Join(", ", slots));
        Assert.All(slots, s => Assert.True(s.StartTime < s.EndTime));
        Assert.All(slots, s => Assert.NotNull(s.RsvpStatus));
        Assert.Empty(await _admin.GetFreeBusyAsync(Employee, query with { IncludeExternalCalendar = false }));

        var batch = await _employee.GetFreeBusyBatchAsync([Server.Bootstrap.AdminOpenId, Employee], query);
        Assert.Equal(new[] { Server.Bootstrap.AdminOpenId, Employee }, batch.Select(b => b.UserId).ToArray());
        Assert.Empty(batch[0].FreebusyItems);
        Assert.Equal(slots, batch[1].FreebusyItems);
    }
}
