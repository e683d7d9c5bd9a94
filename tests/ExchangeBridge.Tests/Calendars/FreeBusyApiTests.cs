using System.Globalization;
using System.Text.Json.Nodes;
using Dapper;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Calendars;

/// <summary>
/// Free/busy of an employee's bound Exchange calendar, asked by someone else in the tenant: times only, a private event
/// busy like any other, an event shown as free, a declined one and a cancelled one not busy.
/// </summary>
public sealed class FreeBusyApiTests : ImportedWeekTests
{
    private const string List = "/open-apis/calendar/v4/freebusy/list";
    private const string Batch = "/open-apis/calendar/v4/freebusy/batch";

    /// <summary>The week of the tests (Monday on), time_min written at +08:00 and time_max in UTC: the answer speaks time_min's offset.</summary>
    private static string Week(string more = "") =>
        $"\"time_min\":\"{At(Monday.AddHours(-1))}\",\"time_max\":\"{Monday.AddDays(7).AddHours(-1).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}\"{more}";

    private static string At(DateTimeOffset utc) => utc.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static List<(string Start, string End)> Stretches(JsonArray items) =>
        items.Select(i => (i!["start_time"]!.GetValue<string>(), i["end_time"]!.GetValue<string>())).ToList();

    [Fact]
    public async Task Another_user_sees_the_busy_times_of_the_week_and_nothing_else()
    {
        var answer = await PostAsync(List, $$"""{"user_id":"{{World.EmployeeOpenId}}",{{Week()}}}""", World.AdminToken);

        Assert.Equal(
            new[]
            {
                (At(Monday), At(Monday.AddMinutes(15))),                                // the stand-up's first occurrence
                (At(Monday.AddDays(1).AddHours(2)), At(Monday.AddDays(1).AddHours(3))), // the private appointment, busy
                (At(Monday.AddDays(4).AddHours(3)), At(Monday.AddDays(4).AddHours(4))), // the all-hands
            },
            Stretches(answer["freebusy_list"]!.AsArray()));
        var text = answer.ToJsonString();
        foreach (var detail in new[] { "Dentist", "Root canal", "Clinic", "Standup", "summary", "colleague", "rsvp_status" })
            Assert.DoesNotContain(detail, text);
    }

    [Fact]
    public async Task Only_busy_false_adds_the_free_and_the_declined_but_never_the_cancelled()
    {
        var answer = await PostAsync($"{List}?user_id_type=user_id",
            $$"""{"user_id":"alisa",{{Week(",\"only_busy\":false,\"need_rsvp_status\":true")}}}""", World.AdminToken);
        var items = answer["freebusy_list"]!.AsArray();
        Assert.Equal(5, items.Count);
        Assert.Contains(items, i => i!["start_time"]!.GetValue<string>() == At(Monday.AddDays(2)));                    // shown as free
        Assert.Contains(items, i => i!["start_time"]!.GetValue<string>() == At(Monday.AddDays(3)) &&
                                    i["rsvp_status"]!.GetValue<string>() == "decline");
        Assert.DoesNotContain(items, i => i!["start_time"]!.GetValue<string>() == At(Monday.AddDays(4)));              // cancelled
        Assert.Equal("accept", items[0]!["rsvp_status"]!.GetValue<string>()); // the organizer's own stand-up
    }

    [Fact]
    public async Task The_app_itself_sees_free_busy_with_its_bot_and_without_the_external_calendars_nothing()
    {
        var tenant = await Server.TenantTokenAsync();
        var body = $$"""{"user_id":"{{World.EmployeeOpenId}}",{{Week()}}}""";
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, List, body, tenant), 404, 190007);
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Patch,
            $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/apps/{Server.Bootstrap.AppId}", """{"bot_enabled":true}""", Server.Bootstrap.OperatorKey));

        Assert.Equal(3, (await PostAsync(List, body, tenant))["freebusy_list"]!.AsArray().Count);
        var withoutExternal = await PostAsync(List, $$"""{"user_id":"{{World.EmployeeOpenId}}",{{Week(",\"include_external_calendar\":false")}}}""", tenant);
        Assert.Empty(withoutExternal["freebusy_list"]!.AsArray());
    }

    [Fact]
    public async Task Free_busy_reads_the_busy_columns_not_the_payload()
    {
        // Every event made to show as free in its column alone: the payloads still say busy.
        await ChangeEventsAsync("UPDATE events SET free_busy_status = 'free'");

        var answer = await PostAsync(List, $$"""{"user_id":"{{World.EmployeeOpenId}}",{{Week()}}}""", World.AdminToken);

        Assert.Empty(answer["freebusy_list"]!.AsArray());
    }

    [Fact]
    public async Task Rows_written_before_migration_0012_answer_the_same_once_it_fills_their_columns()
    {
        var body = $$"""{"user_id":"{{World.EmployeeOpenId}}",{{Week(",\"only_busy\":false,\"need_rsvp_status\":true")}}}""";
        var before = (await PostAsync(List, body, World.AdminToken)).ToJsonString();
        await ChangeEventsAsync(
            """
            UPDATE events SET free_busy_status = NULL, status = NULL, self_rsvp_status = NULL, start_date = NULL, start_timestamp = NULL,
                time_zone = NULL, end_date = NULL, end_timestamp = NULL, recurrence = NULL
            """);

        // The migration's own backfill, as it runs on a database imported before it.
        var dialect = Server.Services.GetRequiredService<IDatabase>().Dialect;
        await using var migration = typeof(Migrator).Assembly.GetManifestResourceStream(
            $"ExchangeBridge.Server.Storage.Migrations.{dialect}.0012_event_busy_columns.sql")!;
        var sql = await new StreamReader(migration).ReadToEndAsync();
        await ChangeEventsAsync(sql[sql.IndexOf("UPDATE events SET", StringComparison.Ordinal)..]);

        Assert.Equal(before, (await PostAsync(List, body, World.AdminToken)).ToJsonString());
        Assert.Equal(5, JsonNode.Parse(before)!["freebusy_list"]!.AsArray().Count); // the series, the free, the declined among them
    }

    private Task ChangeEventsAsync(string sql) =>
        Server.Services.GetRequiredService<IDatabase>().WriteAsync(Touched.Nothing, (c, tx, ct) =>
            c.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct)));

    // The series cache (SeriesCache) holds the stand-up once the first answer placed it: each change below must be
    // answered from the database as it now is, never from what the cache held.

    [Fact]
    public async Task A_series_moved_in_Exchange_is_answered_where_it_now_falls()
    {
        Assert.Contains((At(Monday), At(Monday.AddMinutes(15))), await EmployeeWeekAsync());

        Store.Put(Store.DefaultFolder(Mailbox), Standup(Monday.AddHours(2)));
        await World.SyncAgainAsync();

        var week = await EmployeeWeekAsync();
        Assert.Contains((At(Monday.AddHours(2)), At(Monday.AddHours(2).AddMinutes(15))), week);
        Assert.DoesNotContain((At(Monday), At(Monday.AddMinutes(15))), week);
    }

    [Fact]
    public async Task A_series_deleted_in_Exchange_is_no_longer_busy()
    {
        Assert.Equal(3, (await EmployeeWeekAsync()).Count);

        Store.Delete(Store.DefaultFolder(Mailbox), "standup");
        await World.SyncAgainAsync();

        Assert.DoesNotContain((At(Monday), At(Monday.AddMinutes(15))), await EmployeeWeekAsync());
        Assert.Equal(2, (await EmployeeWeekAsync()).Count);
    }

    [Fact]
    public async Task An_unbound_calendar_is_no_longer_busy()
    {
        Assert.Equal(3, (await EmployeeWeekAsync()).Count);

        await JsonAssert.SuccessAsync(await World.UnbindAsync());

        // The unbind's clean-up runs as a job: free once it has removed the calendar.
        await Eventually.TrueAsync(async () => (await World.CalendarsAsync()).Count == 0, "the unbind removed the calendar");
        Assert.Empty(await EmployeeWeekAsync());
    }

    [Fact]
    public async Task The_weeks_after_hold_the_moved_occurrence_where_it_now_falls_and_neither_it_where_it_was_nor_the_deleted_one()
    {
        var range = $"\"time_min\":\"{At(Monday.AddDays(7).AddHours(-1))}\",\"time_max\":\"{At(Monday.AddDays(21).AddHours(-1))}\"";

        var answer = await PostAsync(List, $$"""{"user_id":"{{World.EmployeeOpenId}}",{{range}}}""", World.AdminToken);

        // The moved occurrence is a stored row of its own, named by its series: the stand-up's Mondays it replaces and the
        // one deleted are not busy.
        Assert.Equal(new[] { (At(Monday.AddDays(8)), At(Monday.AddDays(8).AddMinutes(15))) }, Stretches(answer["freebusy_list"]!.AsArray()));
    }

    private async Task<List<(string Start, string End)>> EmployeeWeekAsync() =>
        Stretches((await PostAsync(List, $$"""{"user_id":"{{World.EmployeeOpenId}}",{{Week()}}}""", World.AdminToken))["freebusy_list"]!.AsArray());

    [Fact]
    public async Task A_batch_answers_each_user_in_the_order_asked_one_without_a_binding_free()
    {
        var admin = Server.Bootstrap.AdminOpenId;
        var answer = await PostAsync(Batch, $$"""{"user_ids":["{{admin}}","{{World.EmployeeOpenId}}"],{{Week()}}}""", World.EmployeeToken);
        var lists = answer["freebusy_lists"]!.AsArray();
        Assert.Equal(new[] { admin, World.EmployeeOpenId }, lists.Select(l => l!["user_id"]!.GetValue<string>()));
        Assert.Empty(lists[0]!["freebusy_items"]!.AsArray());
        Assert.Equal(3, lists[1]!["freebusy_items"]!.AsArray().Count);
    }

    [Fact]
    public async Task Unknown_users_wide_ranges_and_malformed_times_are_refused()
    {
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, List,
            $$"""{"user_id":"ou_nobody",{{Week()}}}""", World.AdminToken), 404, 195100);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, Batch,
            $$"""{"user_ids":["{{World.EmployeeOpenId}}","ou_nobody"],{{Week()}}}""", World.AdminToken), 404, 195100);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, List,
            $$"""{"user_id":"{{World.EmployeeOpenId}}","time_min":"{{At(Monday)}}","time_max":"{{At(Monday.AddDays(43))}}"}""", World.AdminToken), 400, 190002);
        foreach (var malformed in new[] { "2026-11-30T09:00:00", "2026-11-30", "yesterday" })
            await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, List,
                $$"""{"user_id":"{{World.EmployeeOpenId}}","time_min":"{{malformed}}","time_max":"{{At(Monday.AddDays(1))}}"}""", World.AdminToken), 400, 190002);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, List,
            $$"""{"room_id":"omm_x",{{Week()}}}""", World.AdminToken), 400, 190002);
    }
}
