using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Server.Import;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// The ids an import derives are what clients hold, so they must never change: each is written out here from its
/// definition (SHA-256 of the UTF-8, lower-case hex) and compared with what <see cref="EventPayloads"/> derives.
/// </summary>
public sealed class EventPayloadsTests
{
    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string UuidOf(string calendarId, string itemId)
    {
        var hex = Sha256Hex($"{calendarId}\n{itemId}");
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }

    [Fact]
    public void A_calendar_id_is_the_digest_of_binding_and_folder()
    {
        Assert.Equal($"feishu.cn_{Sha256Hex("42\nAAMkAGfolder/é")[..24]}@group.calendar.feishu.cn",
            EventPayloads.CalendarIdFor(42, "AAMkAGfolder/é"));
    }

    [Theory]
    [InlineData(40)]
    [InlineData(400)] // calendar id and item id together longer than any buffer on the stack
    public void Event_and_attendee_ids_are_digests_of_calendar_item_and_address(int itemIdLength)
    {
        var calendarId = EventPayloads.CalendarIdFor(7, "folder");
        var itemId = "AAMkAG" + new string('x', itemIdLength) + "ü=";
        var start = new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
        var deleted = start.AddDays(14);
        var series = new ExchangeEvent(itemId, "ck", null, "Stand-up", null, null, start, start.AddMinutes(30), "UTC", false,
            new EventPerson("Alisa", "Alisa@Contoso.com"),
            [new EventAttendee("Alisa", "Alisa@Contoso.com", AttendeeKind.Required, AttendeeResponse.Accept),
             new EventAttendee("Guest", "guest@FABRIKAM.com", AttendeeKind.Optional, AttendeeResponse.NeedsAction)],
            "FREQ=WEEKLY;COUNT=4", [deleted], null, null, FreeBusy.Busy, null, false, null);

        var rows = EventPayloads.ToRows(series, calendarId, "user", "owner@contoso.COM").ToList();

        var uuid = UuidOf(calendarId, itemId);
        Assert.Equal([$"{uuid}_0", $"{uuid}_{deleted.ToUnixTimeSeconds()}"], rows.Select(r => r.EventId));
        foreach (var row in rows)
        {
            var attendees = JsonNode.Parse(row.Payload)!["attendees"]!.AsArray();
            Assert.Equal([$"third_party_{Sha256Hex("alisa@contoso.com")[..16]}", $"third_party_{Sha256Hex("guest@fabrikam.com")[..16]}"],
                attendees.Select(a => a!["attendee_id"]!.GetValue<string>()));
            Assert.Equal([false, true], attendees.Select(a => a!["is_external"]!.GetValue<bool>()));
        }
        Assert.Equal(uuid, EventPayloads.SeriesUuidOf(rows[0].EventId));
    }
}
