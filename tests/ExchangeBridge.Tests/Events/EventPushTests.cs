using System.Text.Json;
using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Server.Events;
using ExchangeBridge.Tests.Import;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Events;

/// <summary>
/// Change events pushed to an app's request URL (a Kestrel receiver here) as the platform pushes them: the URL verified
/// by the challenge, then schema 2.0 envelopes, encrypted and signed with the app's encrypt key, for the calendars a user
/// subscribed the app to, in order per calendar, and retried on the platform's schedule with the same event_id.
/// </summary>
public sealed class EventPushTests() : ImportWorldTests(SimulatedConnector.Ews, new Dictionary<string, string?>
{
    ["ExchangeBridge:Events:PollMilliseconds"] = "20",
})
{
    private const string EncryptKey = "test-encrypt-key-of-the-app";
    private const string VerificationToken = "test-verification-token";

    [Fact]
    public async Task A_request_url_is_saved_once_it_answers_the_encrypted_challenge_and_the_encrypt_key_is_never_shown()
    {
        await using var receiver = await EventReceiver.StartAsync(EncryptKey);
        var saved = await JsonAssert.SuccessAsync(await PutSettingsAsync(receiver.Url, EncryptKey));
        Assert.Equal(1, receiver.Challenges);
        Assert.True(saved["data"]!["has_encrypt_key"]!.GetValue<bool>());

        var shown = (await JsonAssert.SuccessAsync(await World.Server.SendAsync(HttpMethod.Get, SettingsPath, null,
            World.Server.Bootstrap.OperatorKey)))["data"]!.ToJsonString();
        Assert.DoesNotContain(EncryptKey, shown, StringComparison.Ordinal);

        // A receiver with another key cannot read the challenge; a URL where nothing listens cannot answer it.
        await using var stranger = await EventReceiver.StartAsync("another key");
        await JsonAssert.ErrorAsync(await PutSettingsAsync(stranger.Url, EncryptKey), 400, 40000);
        await JsonAssert.ErrorAsync(await PutSettingsAsync("http://127.0.0.1:9/nothing", EncryptKey), 400, 40000);
    }

    [Fact]
    public async Task A_create_an_update_and_a_delete_reach_the_subscribed_app_encrypted_signed_and_in_order()
    {
        var calendar = Store.DefaultFolder(Mailbox);
        await using var receiver = await BoundWithReceiverAsync();
        var calendarId = await SubscribeToPrimaryAsync();

        Store.Put(calendar, Meeting("AAMkAGpush+1/A=", "Planning"));
        await World.SyncAgainAsync();
        Store.Put(calendar, Meeting("AAMkAGpush+1/A=", "Planning (moved)"));
        await World.SyncAgainAsync();
        Store.Delete(calendar, "AAMkAGpush+1/A=");
        await World.SyncAgainAsync();

        // As the app sees them: each event_id once (a claim that ran out while the test moved the clock sends one again).
        var received = (await receiver.WaitForAsync(r => r.DistinctBy(e => e.EventId).Count() >= 3)).DistinctBy(r => r.EventId).ToList();
        Assert.Equal([ChangeTypes.Create, ChangeTypes.Update, ChangeTypes.Delete],
            received.Select(r => r.Event["change_type"]!.GetValue<string>()));
        Assert.Single(received.Select(r => r.Event["calendar_event_id"]!.GetValue<string>()).Distinct());
        foreach (var r in received)
        {
            Assert.True(r.Signed && r.SignatureValid, r.RawBody);
            Assert.StartsWith("{\"encrypt\":\"", r.RawBody, StringComparison.Ordinal);
            Assert.Equal("2.0", r.Payload["schema"]!.GetValue<string>());
            var header = r.Payload["header"]!;
            Assert.Equal(EventTypes.EventChanged, header["event_type"]!.GetValue<string>());
            Assert.Equal(VerificationToken, header["token"]!.GetValue<string>());
            Assert.Equal(World.Server.Bootstrap.AppId, header["app_id"]!.GetValue<string>());
            Assert.Equal(World.Server.Bootstrap.TenantKey, header["tenant_key"]!.GetValue<string>());
            Assert.True(long.TryParse(header["create_time"]!.GetValue<string>(), out _));
            Assert.Equal(calendarId, r.Event["calendar_id"]!.GetValue<string>());
            Assert.Equal(World.EmployeeOpenId, r.Event["user_id_list"]![0]!["open_id"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_refused_event_is_retried_on_the_schedule_with_its_event_id_and_holds_back_the_calendars_later_events()
    {
        var calendar = Store.DefaultFolder(Mailbox);
        await using var receiver = await BoundWithReceiverAsync();
        await SubscribeToPrimaryAsync();
        string? refusedId = null;
        receiver.Answer = r => (refusedId ??= r.EventId) == r.EventId ? 500 : 200;

        Store.Put(calendar, Meeting("AAMkAGpush+1/A=", "Planning"));
        Store.Put(calendar, Meeting("AAMkAGpush+2/A=", "Review"));
        await World.SyncAgainAsync();

        // The second event waits behind the refused first: both pending, the first to be retried 15 s after its failure.
        var pending = await WaitForDeliveriesAsync(d => d.Count == 2 && d[0]["last_error"] is not null);
        Assert.Equal(["pending", "pending"], pending.Select(d => d["state"]!.GetValue<string>()));
        Assert.Equal("HTTP 500", pending[0]["last_error"]!.GetValue<string>());
        Assert.Single(receiver.Received);

        receiver.Answer = _ => 200;
        World.Server.Clock.Advance(TimeSpan.FromSeconds(16));
        var received = await receiver.WaitForAsync(r => r.Count >= 3);
        Assert.Equal(refusedId, received[1].EventId);
        Assert.NotEqual(refusedId, received[2].EventId);
        Assert.Equal(2, received.Select(r => r.Event["calendar_event_id"]!.GetValue<string>()).Distinct().Count());
        await WaitForDeliveriesAsync(d => d.All(x => x["state"]!.GetValue<string>() == "delivered"));
    }

    [Fact]
    public async Task A_redirect_from_the_request_url_is_a_failed_push_and_is_not_followed()
    {
        var calendar = Store.DefaultFolder(Mailbox);
        await using var receiver = await BoundWithReceiverAsync();
        await SubscribeToPrimaryAsync();
        // The app's URL answers 307 (method kept) pointing at another listener that would accept anything.
        await using var elsewhere = await EventReceiver.StartAsync(EncryptKey);
        receiver.RedirectTo = elsewhere.Url;

        Store.Put(calendar, Meeting("AAMkAGpush+1/A=", "Planning"));
        await World.SyncAgainAsync();

        var pending = await WaitForDeliveriesAsync(d => d.Count == 1 && d[0]["last_error"] is not null);
        Assert.Equal("HTTP 307", pending[0]["last_error"]!.GetValue<string>());
        Assert.Single(receiver.Received);
        Assert.Empty(elsewhere.Received);
    }

    [Fact]
    public async Task A_settled_delivery_is_deleted_after_the_retention_and_a_pending_one_is_kept()
    {
        var calendar = Store.DefaultFolder(Mailbox);
        await using var receiver = await BoundWithReceiverAsync();
        await SubscribeToPrimaryAsync();
        Store.Put(calendar, Meeting("AAMkAGpush+1/A=", "Planning"));
        await World.SyncAgainAsync();
        await WaitForDeliveriesAsync(d => d.Count == 1 && d[0]["state"]!.GetValue<string>() == "delivered");
        receiver.Answer = _ => 500;
        Store.Put(calendar, Meeting("AAMkAGpush+2/A=", "Review"));
        await World.SyncAgainAsync();
        var refused = (await WaitForDeliveriesAsync(d => d.Count == 2 && d[1]["last_error"] is not null))[1]["event_id"]!.GetValue<string>();

        // A week (the default retention) and an hour later only the delivery still pending is left.
        World.Server.Clock.Advance(TimeSpan.FromHours(169));
        var left = await WaitForDeliveriesAsync(d => d.Count == 1);
        Assert.Equal(refused, left[0]["event_id"]!.GetValue<string>());
        Assert.Equal("pending", left[0]["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_resigned_users_subscriptions_end_with_their_access()
    {
        var calendar = Store.DefaultFolder(Mailbox);
        await using var receiver = await BoundWithReceiverAsync();
        await SubscribeToPrimaryAsync();
        await JsonAssert.SuccessAsync(await World.Server.SendAsync(HttpMethod.Patch,
            $"/admin/v1/tenants/{World.Server.Bootstrap.TenantKey}/users/alisa", """{"resigned":true}""", World.Server.Bootstrap.OperatorKey));
        // Reinstated, the user has no subscription back: it was made under access that ended.
        await JsonAssert.SuccessAsync(await World.Server.SendAsync(HttpMethod.Patch,
            $"/admin/v1/tenants/{World.Server.Bootstrap.TenantKey}/users/alisa", """{"resigned":false}""", World.Server.Bootstrap.OperatorKey));

        Store.Put(calendar, Meeting("AAMkAGpush+1/A=", "Planning"));
        await World.SyncAgainAsync();

        Assert.Empty(await WaitForDeliveriesAsync(_ => true));
        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task A_deleted_app_is_sent_nothing_more()
    {
        var calendar = Store.DefaultFolder(Mailbox);
        await using var receiver = await BoundWithReceiverAsync();
        var calendarId = await SubscribeToPrimaryAsync();
        await JsonAssert.SuccessAsync(await World.Server.SendAsync(HttpMethod.Delete,
            $"/admin/v1/tenants/{World.Server.Bootstrap.TenantKey}/apps/{World.Server.Bootstrap.AppId}", null, World.Server.Bootstrap.OperatorKey));

        Store.Put(calendar, Meeting("AAMkAGpush+1/A=", "Planning"));
        await World.SyncAgainAsync();

        // The change is in the log (a sync_token reads it), but no event for it is queued for the deleted app.
        Assert.Contains(await World.Server.Services.GetRequiredService<ChangeReads>().EventChangesAsync(calendarId, 0, 100, default),
            c => c.Payload?.Contains("\"Planning\"", StringComparison.Ordinal) == true);
        Assert.Empty(await WaitForDeliveriesAsync(_ => true));
        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task Our_binding_status_event_tells_an_app_that_asked_for_it_when_the_import_is_done()
    {
        await using var receiver = await EventReceiver.StartAsync(null);
        await JsonAssert.SuccessAsync(await PutSettingsAsync(receiver.Url, null, [EventTypes.BindingStatusChanged]));
        await BindUntilDoneAsync();

        var received = await receiver.WaitForAsync(r => r.Any(e => e.Event["status"]?.GetValue<string>() == "done"));
        Assert.All(received, r => Assert.Equal(EventTypes.BindingStatusChanged, r.EventType));
        Assert.Equal(["cal_done", "timespan_done", "done"], received.Select(r => r.Event["status"]!.GetValue<string>()));
        Assert.Equal(World.BindingId, received[0].Event["exchange_binding_id"]!.GetValue<string>());
        Assert.False(received[0].Signed); // no encrypt key, nothing to sign with
    }

    private string SettingsPath => $"/admin/v1/tenants/{World.Server.Bootstrap.TenantKey}/apps/{World.Server.Bootstrap.AppId}/event_settings";

    private Task<HttpResponseMessage> PutSettingsAsync(string url, string? encryptKey, string[]? eventTypes = null) =>
        World.Server.SendAsync(HttpMethod.Put, SettingsPath, JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["request_url"] = url, ["verification_token"] = VerificationToken, ["encrypt_key"] = encryptKey,
            ["event_types"] = eventTypes ?? [EventTypes.EventChanged, EventTypes.CalendarChanged],
        }), World.Server.Bootstrap.OperatorKey);

    /// <summary>The employee bound and imported, and the app's request URL a receiver holding the app's encrypt key.</summary>
    private async Task<EventReceiver> BoundWithReceiverAsync()
    {
        await BindUntilDoneAsync();
        var receiver = await EventReceiver.StartAsync(EncryptKey);
        await JsonAssert.SuccessAsync(await PutSettingsAsync(receiver.Url, EncryptKey));
        return receiver;
    }

    private async Task<string> SubscribeToPrimaryAsync()
    {
        var calendarId = (await World.CalendarsAsync()).Single(c => c["summary"]!.GetValue<string>() == "Calendar")["calendar_id"]!.GetValue<string>();
        await JsonAssert.SuccessAsync(await World.Server.SendAsync(HttpMethod.Post,
            $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendarId)}/events/subscription", "{}", World.EmployeeToken));
        return calendarId;
    }

    private async Task<List<JsonObject>> WaitForDeliveriesAsync(Func<List<JsonObject>, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var items = (await JsonAssert.SuccessAsync(await World.Server.SendAsync(HttpMethod.Get,
                    $"/admin/v1/tenants/{World.Server.Bootstrap.TenantKey}/event_deliveries", null, World.Server.Bootstrap.OperatorKey)))
                ["data"]!["items"]!.AsArray().Select(i => i!.AsObject()).Reverse().ToList();
            if (until(items)) return items;
            if (DateTime.UtcNow > deadline) throw new TimeoutException(string.Join("\n", items.Select(i => i.ToJsonString())));
            await Task.Delay(20);
        }
    }

    private async Task BindUntilDoneAsync()
    {
        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
    }

    private static SimCalendarItem Meeting(string itemId, string subject) =>
        new() { ItemId = itemId, Subject = subject, Start = Monday.AddDays(1), End = Monday.AddDays(1).AddHours(1) };
}
