using System.Text.Json;
using ExchangeBridge.Server.Events;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Events;

/// <summary>Two instances on one PostgreSQL share the outbox: each delivery is claimed by one of them, in order per calendar.</summary>
public sealed class SharedOutboxTests
{
    [PostgresFact]
    public async Task Two_instances_deliver_every_event_once_and_each_calendars_events_in_the_order_they_changed()
    {
        var settings = new Dictionary<string, string?> { ["ExchangeBridge:Events:PollMilliseconds"] = "5" };
        await using var a = new TestServer(demo: false, settings: settings);
        // The same data folder: the same master key, which decrypts the encrypt key the other instance stored.
        await using var b = new TestServer(dataDir: a.DataDir, demo: false, settings: settings, postgresConnectionString: a.PostgresConnectionString);
        await using var receiver = await EventReceiver.StartAsync("shared-outbox-key");
        await JsonAssert.SuccessAsync(await a.SendAsync(HttpMethod.Put,
            $"/admin/v1/tenants/{a.Bootstrap.TenantKey}/apps/{a.Bootstrap.AppId}/event_settings",
            JsonSerializer.Serialize(new { request_url = receiver.Url, verification_token = "t", encrypt_key = "shared-outbox-key" }),
            a.Bootstrap.OperatorKey));
        var calendars = new[] { "cal-a", "cal-b", "cal-c" };
        var events = a.Services.GetRequiredService<EventSettingsStore>();
        foreach (var calendar in calendars)
            await events.SubscribeAsync(a.Bootstrap.AppId, a.Bootstrap.TenantKey, "employee", SubscriptionKinds.Events, calendar, 0, default);

        // Changes committed through both instances at once, as two import workers would.
        const int perCalendar = 20;
        await Task.WhenAll(new[] { a, b }.Select((server, s) => Task.Run(async () =>
        {
            var database = server.Services.GetRequiredService<IDatabase>();
            for (var i = s; i < perCalendar; i += 2)
                foreach (var calendar in calendars)
                    await database.WriteAsync(Touched.Nothing, async (c, tx, ct) =>
                    {
                        await ChangeLog.RecordEventChangesAsync(database, c, tx, new CalendarOwner(calendar, a.Bootstrap.TenantKey, "employee"),
                            [new EventChange($"{calendar}-{i:D2}", ChangeTypes.Update)], 0, ct);
                        return 0;
                    });
        })));

        var received = await receiver.WaitForAsync(r => r.Count >= calendars.Length * perCalendar, TimeSpan.FromSeconds(60));
        Assert.Equal(received.Count, received.Select(r => r.EventId).Distinct().Count());
        foreach (var calendar in calendars)
        {
            var order = received.Where(r => r.Event["calendar_id"]!.GetValue<string>() == calendar)
                .Select(r => r.Event["calendar_event_id"]!.GetValue<string>()).ToList();
            Assert.Equal(await LoggedOrderAsync(a, calendar), order);
        }
    }

    /// <summary>The calendar's changes in the order the log numbered them (the order their writes committed).</summary>
    private static async Task<List<string>> LoggedOrderAsync(TestServer server, string calendarId)
    {
        await using var c = await server.Services.GetRequiredService<IDatabase>().OpenAsync();
        return (await Dapper.SqlMapper.QueryAsync<string>(c, "SELECT event_id FROM calendar_changes WHERE stream = @stream ORDER BY seq",
            new { stream = ChangeLog.EventStream(calendarId) })).ToList();
    }
}
