using Dapper;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Storage;

/// <summary>
/// The free/busy range statements are answered from the indexes of migration 0013 alone: each row they read by start or by
/// end comes from index pages, never from the table, where every event's columns sit after its ~1.6 KB payload. A
/// column added to the statement but not to the index, or a condition written so the planner cannot see the partial
/// index is its own, turns the plan back into a table read per row.
/// </summary>
public sealed class EventRangeReadsTests() : ServerTests(new TestServer())
{

    [Fact]
    public async Task The_free_busy_statement_per_calendar_reads_its_short_rows_by_start_and_its_masters_by_end_from_the_indexes_alone()
    {
        var plan = await PlanAsync(Reads.PrimaryCalendarsCommand(Server.Bootstrap.TenantKey, ["alisa", "boris"], 1_796_000_000_000,
            1_796_604_800_000, CancellationToken.None));

        AssertReadFromAlone(plan, "events_calendar_time", "events_long");
    }

    [Fact]
    public async Task The_free_busy_statement_of_long_rows_and_exceptions_reads_events_by_end_from_events_long_and_exceptions_from_their_own_index()
    {
        var plan = await PlanAsync(Reads.PrimaryCalendarsLongRowsCommand(Server.Bootstrap.TenantKey, ["alisa", "boris"], 1_796_000_000_000,
            1_796_604_800_000, CancellationToken.None));

        // On PostgreSQL the exceptions' part reads its rows from the table by design (they are few), by whichever index the
        // planner likes for an empty table, so only the long rows' part is held to an index-only scan.
        AssertReadFromAlone(plan, "events_long");
        // Each master's exceptions are looked up in the index of exceptions alone, not in events_series' million entries.
        if (Database.Dialect == "Sqlite")
            Assert.Contains(plan, line => line.Contains("USING INDEX events_exceptions", StringComparison.Ordinal));
    }

    /// <summary>
    /// The calendar's event list over a range (GET …/calendars/{id}/events with start_time and end_time) finds its rows as
    /// these reads do. Bounded by the range's end alone, the index handed over the calendar's whole past, each row read from
    /// the table and thrown away: during the organisation benchmark on PostgreSQL a week of a calendar of 425 events read
    /// 208 table pages, writing out 133 dirty ones the import had left to make room (issue 19, bench/results/latest.md).
    /// </summary>
    [Fact]
    public async Task A_ranged_page_of_the_event_list_reads_short_rows_from_a_day_before_the_range_and_long_rows_by_their_end()
    {
        var plan = await PlanAsync(CalendarStore.EventsPageCommand(1, 1_796_000_000_000, 1_796_604_800_000, 0, 501, CancellationToken.None));

        if (Database.Dialect == "Sqlite")
        {
            Assert.Contains(plan, line => line.Contains("events_calendar_time (calendar_key=? AND start_ms>? AND start_ms<?)", StringComparison.Ordinal));
            Assert.Contains(plan, line => line.Contains("events_long (calendar_key=? AND end_ms>?)", StringComparison.Ordinal));
        }
        else
        {
            Assert.Contains(plan, line => line.Contains("Index Cond:", StringComparison.Ordinal)
                && line.Contains("start_ms >=", StringComparison.Ordinal) && line.Contains("start_ms <", StringComparison.Ordinal));
            Assert.Contains(plan, line => line.Contains("using events_long", StringComparison.Ordinal));
        }
        Assert.DoesNotContain(plan, line => line.StartsWith("SCAN e", StringComparison.Ordinal));
    }

    /// <summary>Each of <paramref name="indexes"/> is read without the table, and no part of the plan scans the events.</summary>
    private void AssertReadFromAlone(List<string> plan, params string[] indexes)
    {
        foreach (var index in indexes)
            if (Database.Dialect == "Sqlite")
            {
                Assert.Contains(plan, line => line.Contains($"USING COVERING INDEX {index}", StringComparison.Ordinal));
                Assert.DoesNotContain(plan, line => line.Contains($"USING INDEX {index}", StringComparison.Ordinal));
            }
            else
                Assert.Contains(plan, line => line.Contains($"Index Only Scan using {index}", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.StartsWith("SCAN e", StringComparison.Ordinal) || line.StartsWith("SCAN m", StringComparison.Ordinal));
    }

    private IDatabase Database => Server.Services.GetRequiredService<IDatabase>();

    private EventRangeReads Reads => Server.Services.GetRequiredService<EventRangeReads>();

    /// <summary>The planner's plan of a statement, line by line.</summary>
    private async Task<List<string>> PlanAsync(CommandDefinition statement)
    {
        await using var c = await Database.OpenAsync();
        if (Database.Dialect == "Sqlite")
            return (await c.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>(
                new CommandDefinition("EXPLAIN QUERY PLAN " + statement.CommandText, statement.Parameters))).Select(row => row.Detail).ToList();
        // The tables are all but empty here: without these the planner would rightly read them whole.
        await c.ExecuteAsync("SET enable_seqscan = off; SET enable_bitmapscan = off");
        return (await c.QueryAsync<string>(new CommandDefinition("EXPLAIN " + statement.CommandText, statement.Parameters))).ToList();
    }
}
