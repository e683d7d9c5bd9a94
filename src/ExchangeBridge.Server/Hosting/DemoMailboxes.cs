using System.Text.Json;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Server.Admin;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ExchangeBridge.Server.Hosting;

/// <summary>
/// With --demo the server also hosts the EWS simulator (a simulator, not Exchange) at /EWS/Exchange.asmx, holding the
/// seed page's example mailbox, and points the example admin account at it once the server knows its own address.
/// Operators can stage what the import must survive there and watch it recover: an outage or a hang of a mailbox, a
/// changed password, a meeting made, moved or deleted in the default calendar (<c>/admin/v1/demo/simulator/…</c>, with the
/// operator key).
/// </summary>
public static class DemoMailboxes
{
    public const string SimulatorPath = "/EWS/Exchange.asmx";

    public static MailboxStore Create()
    {
        var store = new MailboxStore();
        store.AddAdmin(Bootstrapper.DemoAdminAccount, Bootstrapper.DemoAdminPassword);
        const string mailbox = Bootstrapper.DemoExchangeAccount;
        var calendar = store.DefaultFolder(mailbox);
        var monday = NextMonday(DateTimeOffset.UtcNow).AddHours(1); // 09:00 in China Standard Time
        var organizer = new SimPerson("Example Admin", Bootstrapper.DemoAdminAccount);
        store.Put(calendar, new SimCalendarItem
        {
            ItemId = "demo-kickoff", Subject = "Project kick-off", Start = monday.AddDays(1), End = monday.AddDays(1).AddHours(1),
            TimeZoneId = "China Standard Time", Location = "Room 101", Body = "Agenda: scope, owners, dates.", Organizer = organizer,
            Attendees = [new SimAttendee("Example Account", mailbox, "Accept"), new SimAttendee("Alisa", "alisa@example.com", "Tentative", Optional: true)],
        });
        store.Put(calendar, new SimCalendarItem
        {
            ItemId = "demo-weekly", Subject = "Weekly sync", Start = monday, End = monday.AddMinutes(30), TimeZoneId = "China Standard Time",
            Organizer = organizer, Attendees = [new SimAttendee("Example Account", mailbox, "Accept")],
            Recurrence = new SimRecurrence(
                "<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>",
                $"<t:NumberedRecurrence><t:StartDate>{monday:yyyy-MM-dd}</t:StartDate><t:NumberOfOccurrences>12</t:NumberOfOccurrences></t:NumberedRecurrence>"),
            Exceptions = [new SimException("demo-weekly-moved", monday.AddDays(7), monday.AddDays(7).AddHours(2), monday.AddDays(7).AddHours(2.5), "Weekly sync (moved)")],
            DeletedOccurrences = [monday.AddDays(14)],
        });
        store.Put(calendar, new SimCalendarItem
        {
            ItemId = "demo-holiday", Subject = "Company holiday", Start = monday.AddDays(4).AddHours(-1), End = monday.AddDays(5).AddHours(-1),
            TimeZoneId = "China Standard Time", IsAllDay = true, FreeBusy = "OOF", ReminderMinutes = null,
        });
        var team = store.AddFolder(mailbox, "Team");
        store.Put(team, new SimCalendarItem
        {
            ItemId = "demo-offsite", Subject = "Team offsite", Start = monday.AddDays(10), End = monday.AddDays(10).AddHours(6),
            TimeZoneId = "China Standard Time", Location = "Lakeside",
        });
        return store;
    }

    /// <summary>With --demo, maps the simulator and, once listening, points the demo admin account at this server's own address.</summary>
    public static void MapDemoMailboxes(this IEndpointRouteBuilder endpoints)
    {
        var services = endpoints.ServiceProvider;
        if (services.GetService<MailboxStore>() is not { } store) return;
        endpoints.MapEwsSimulator(store, SimulatorPath);
        var simulator = endpoints.MapGroup("/admin/v1/demo/simulator").RequireAuthorization(OperatorKeyHandler.Policy);
        simulator.MapPost("/mailboxes/{mailbox}/fault", (string mailbox, HttpRequest request, CancellationToken ct) => InjectFaultAsync(store, mailbox, request, ct))
            .WithName("DemoSimulatorFault").WithSummary("Demo: the simulator answers a mailbox with an outage, a hang, or normally again");
        simulator.MapPost("/admins/{username}/password", (string username, HttpRequest request, CancellationToken ct) => ChangePasswordAsync(store, username, request, ct))
            .WithName("DemoSimulatorPassword").WithSummary("Demo: the simulator's admin account gets a new password; the old one is refused");
        simulator.MapPut("/mailboxes/{mailbox}/items/{item_id}", (string mailbox, string item_id, HttpRequest request, CancellationToken ct) =>
                PutItemAsync(store, mailbox, item_id, request, ct))
            .WithName("DemoSimulatorPutItem").WithSummary("Demo: a meeting made or changed in the mailbox's default calendar");
        simulator.MapDelete("/mailboxes/{mailbox}/items/{item_id}", (string mailbox, string item_id) => DeleteItem(store, mailbox, item_id))
            .WithName("DemoSimulatorDeleteItem").WithSummary("Demo: a meeting deleted from the mailbox's default calendar");
        services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() =>
        {
            var address = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            if (address is null) return;
            var endpoint = new Uri(new Uri(address.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "[::1]")), SimulatorPath).ToString();
            services.GetRequiredService<AdminStore>()
                .SetEndpointAsync(Bootstrapper.DemoAdminAccount, endpoint, CancellationToken.None).GetAwaiter().GetResult();
        });
    }

    /// <summary>
    /// <c>{"fault": "refuse" | "internal_server_error" | "server_busy" | "hang" | "none", "requests"?: n, "back_off_ms"?: ms}</c>:
    /// the next n requests for the mailbox (every one without n), or none again.
    /// </summary>
    private static async Task<FeishuJsonResult<Envelope<EmptyData>>> InjectFaultAsync(MailboxStore store, string mailbox, HttpRequest request,
        CancellationToken ct)
    {
        var invalid = FeishuErrors.OperatorInvalidRequest;
        var (fault, requests, backOffMs) = await JsonBody.ReadObjectAsync(request, invalid, b => (
            JsonBody.RequiredString(b, "fault", invalid), OptionalPositive(b, "requests"), OptionalPositive(b, "back_off_ms")), ct);
        if (fault == "none") store.ClearFault(mailbox);
        else if (Enum.TryParse<SimFault>(fault.Replace("_", ""), ignoreCase: true, out var kind) && Enum.IsDefined(kind))
            store.InjectFault(mailbox, kind, requests, backOffMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null);
        else throw new FeishuException(invalid, "fault must be refuse, internal_server_error, server_busy, hang or none");
        return FeishuJson.Result(Envelope.Success(new EmptyData()), FeishuJsonContext.Default.EnvelopeEmptyData);
    }

    private static async Task<FeishuJsonResult<Envelope<EmptyData>>> ChangePasswordAsync(MailboxStore store, string username, HttpRequest request,
        CancellationToken ct)
    {
        var invalid = FeishuErrors.OperatorInvalidRequest;
        var password = await JsonBody.ReadObjectAsync(request, invalid, b => JsonBody.RequiredString(b, "password", invalid), ct);
        try
        {
            store.ChangePassword(username, password);
        }
        catch (InvalidOperationException)
        {
            throw new FeishuException(FeishuErrors.OperatorNotFound, "simulator admin account");
        }
        return FeishuJson.Result(Envelope.Success(new EmptyData()), FeishuJsonContext.Default.EnvelopeEmptyData);
    }

    /// <summary><c>{"subject": "…", "start": ISO 8601, "end": ISO 8601}</c>: made, or changed (a new change key) when it exists.</summary>
    private static async Task<FeishuJsonResult<Envelope<EmptyData>>> PutItemAsync(MailboxStore store, string mailbox, string itemId,
        HttpRequest request, CancellationToken ct)
    {
        var invalid = FeishuErrors.OperatorInvalidRequest;
        var item = await JsonBody.ReadObjectAsync(request, invalid, b =>
        {
            var (start, end) = (Instant(b, "start"), Instant(b, "end"));
            if (end <= start) throw new FeishuException(invalid, "end must be after start");
            return new SimCalendarItem { ItemId = itemId, Subject = JsonBody.RequiredString(b, "subject", invalid), Start = start, End = end };
        }, ct);
        store.Put(store.DefaultFolder(mailbox), item);
        return FeishuJson.Result(Envelope.Success(new EmptyData()), FeishuJsonContext.Default.EnvelopeEmptyData);

        static DateTimeOffset Instant(JsonElement body, string name) =>
            DateTimeOffset.TryParse(JsonBody.RequiredString(body, name, FeishuErrors.OperatorInvalidRequest), System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.None, out var value)
                ? value
                : throw new FeishuException(FeishuErrors.OperatorInvalidRequest, $"{name} must be an ISO 8601 time");
    }

    private static FeishuJsonResult<Envelope<EmptyData>> DeleteItem(MailboxStore store, string mailbox, string itemId) =>
        store.Delete(store.DefaultFolder(mailbox), itemId)
            ? FeishuJson.Result(Envelope.Success(new EmptyData()), FeishuJsonContext.Default.EnvelopeEmptyData)
            : throw new FeishuException(FeishuErrors.OperatorNotFound, "simulator item");

    private static int? OptionalPositive(JsonElement body, string name) =>
        !body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n > 0 ? n
        : throw new FeishuException(FeishuErrors.OperatorInvalidRequest, $"{name} must be a positive integer");

    private static DateTimeOffset NextMonday(DateTimeOffset now)
    {
        var date = now.UtcDateTime.Date.AddDays(1);
        while (date.DayOfWeek != DayOfWeek.Monday) date = date.AddDays(1);
        return new DateTimeOffset(date, TimeSpan.Zero);
    }
}
