using System.CommandLine;
using System.Globalization;
using ExchangeBridge.Cli.Output;
using ExchangeBridge.Client;
using Spectre.Console;

namespace ExchangeBridge.Cli.Commands;

/// <summary>
/// <c>exbridge events tail</c>: the events pushed to a tenant's apps, as the operator API lists them (newest last):
/// which were delivered, which wait for a retry and why, which failed for good. With <c>--follow</c> it keeps printing
/// each delivery again whenever it changes.
/// </summary>
internal static class EventsCommand
{
    public static Command Create()
    {
        var tenant = new Option<string>("--tenant") { Required = true, Description = "The tenant_key" };
        var app = new Option<string?>("--app") { Description = "Only this app's deliveries (its app_id)" };
        var state = new Option<string?>("--state") { Description = "Only deliveries in this state" };
        state.AcceptOnlyFromAmong("pending", "delivered", "failed");
        var limit = new Option<int>("--limit") { Description = "How many of the latest to show (1..500)", DefaultValueFactory = _ => 20 };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep watching; print a delivery again when it changes (Ctrl-C ends)" };
        var json = Options.Json();
        var tail = new Command("tail", "The latest event deliveries to apps, their attempts and failures (operator API)")
        {
            tenant, app, state, limit, follow, json,
        };
        tail.SetAction((parse, ct) => Commands.Run(async () =>
        {
            using var client = new Connection(parse).OperatorClient();
            var seen = new Dictionary<long, long>();
            while (true)
            {
                var deliveries = await client.ListEventDeliveriesAsync(parse.GetRequiredValue(tenant), parse.GetValue(app), parse.GetValue(state),
                    parse.GetValue(limit), ct);
                // Newest last, and only what is new or changed since the last look.
                var fresh = deliveries.Reverse().Where(d => !seen.TryGetValue(d.Id, out var updated) || updated != d.UpdatedAt).ToList();
                foreach (var d in fresh) seen[d.Id] = d.UpdatedAt;
                Print(fresh, parse.GetValue(json));
                if (!parse.GetValue(follow)) return deliveries.Any(d => d.State == "failed") ? ExitCodes.Failed : ExitCodes.Ok;
                await Task.Delay(TimeSpan.FromSeconds(2), ct);
            }
        }));
        return new Command("events", "Events pushed to apps (operator API)") { tail };
    }

    private static void Print(IReadOnlyList<EventDelivery> deliveries, bool json)
    {
        if (json)
        {
            foreach (var d in deliveries) Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(d, CliJsonContext.Default.EventDelivery).ReplaceLineEndings(" "));
            return;
        }
        if (deliveries.Count == 0) return;
        var table = new Table().AddColumns("updated", "event_id", "app_id", "event_type", "state", "attempts", "last_error");
        foreach (var d in deliveries)
            table.AddRow(Markup.Escape(DateTimeOffset.FromUnixTimeMilliseconds(d.UpdatedAt).ToString("u", CultureInfo.InvariantCulture)),
                Markup.Escape(d.EventId), Markup.Escape(d.AppId), Markup.Escape(d.EventType),
                Markup.Escape(d.State == "pending" && d.LastError is not null
                    ? $"retry at {DateTimeOffset.FromUnixTimeMilliseconds(d.NextAttemptAt).ToString("u", CultureInfo.InvariantCulture)}"
                    : d.State),
                d.Attempts.ToString(CultureInfo.InvariantCulture), Markup.Escape(d.LastError ?? ""));
        CliConsole.Out.Write(table);
    }
}
