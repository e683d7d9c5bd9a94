using System.Net;
using System.Text;
using System.Xml.Linq;
using ExchangeBridge.ExchangeSimulator;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>
/// The simulator's wire format: its answers share the element paths (names and namespaces) of Microsoft's documented
/// samples, and it refuses what Exchange refuses.
/// </summary>
public class SimulatorProtocolTests
{
    private const string Alisa = "alisa@contoso.com";
    private const string Envelope = "s:Envelope/s:Body/";

    public static TheoryData<string, string, string[]> SharedShapes => new()
    {
        {
            "getfolder.response.calendar.xml",
            """<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>""",
            ["s:Envelope/s:Header/t:ServerVersionInfo", Envelope + "m:GetFolderResponse/m:ResponseMessages/m:GetFolderResponseMessage@ResponseClass",
             Envelope + "m:GetFolderResponse/m:ResponseMessages/m:GetFolderResponseMessage/m:ResponseCode",
             Envelope + "m:GetFolderResponse/m:ResponseMessages/m:GetFolderResponseMessage/m:Folders/t:CalendarFolder/t:FolderId@Id",
             Envelope + "m:GetFolderResponse/m:ResponseMessages/m:GetFolderResponseMessage/m:Folders/t:CalendarFolder/t:FolderId@ChangeKey"]
        },
        {
            "findfolder.response.deep.xml",
            """<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindFolder>""",
            [Envelope + "m:FindFolderResponse/m:ResponseMessages/m:FindFolderResponseMessage/m:RootFolder@TotalItemsInView",
             Envelope + "m:FindFolderResponse/m:ResponseMessages/m:FindFolderResponseMessage/m:RootFolder@IncludesLastItemInRange",
             Envelope + "m:FindFolderResponse/m:ResponseMessages/m:FindFolderResponseMessage/m:RootFolder/t:Folders/t:CalendarFolder/t:FolderId@Id",
             Envelope + "m:FindFolderResponse/m:ResponseMessages/m:FindFolderResponseMessage/m:RootFolder/t:Folders/t:CalendarFolder/t:DisplayName"]
        },
        {
            "finditem-restriction-calendar.response.xml",
            """<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="100" Offset="0" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>""",
            [Envelope + "m:FindItemResponse/m:ResponseMessages/m:FindItemResponseMessage/m:RootFolder@IndexedPagingOffset",
             Envelope + "m:FindItemResponse/m:ResponseMessages/m:FindItemResponseMessage/m:RootFolder@TotalItemsInView",
             Envelope + "m:FindItemResponse/m:ResponseMessages/m:FindItemResponseMessage/m:RootFolder@IncludesLastItemInRange",
             Envelope + "m:FindItemResponse/m:ResponseMessages/m:FindItemResponseMessage/m:RootFolder/t:Items/t:CalendarItem/t:ItemId@ChangeKey"]
        },
        {
            "getitem-recurring-master.response.xml",
            """<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="weekly"/></m:ItemIds></m:GetItem>""",
            [Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:Subject",
             Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:CalendarItemType",
             Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:Recurrence/t:WeeklyRecurrence/t:Interval",
             Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:Recurrence/t:WeeklyRecurrence/t:DaysOfWeek",
             Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:Recurrence/t:NumberedRecurrence/t:StartDate",
             Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:Recurrence/t:NumberedRecurrence/t:NumberOfOccurrences"]
        },
        {
            "getitem-calendar-batch.response.xml",
            """<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="meeting"/></m:ItemIds></m:GetItem>""",
            [Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:Body@BodyType",
             Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:ReminderMinutesBeforeStart",
             Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:Location",
             Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:RequiredAttendees/t:Attendee/t:Mailbox/t:EmailAddress",
             Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:RequiredAttendees/t:Attendee/t:Mailbox/t:RoutingType",
             Envelope + "m:GetItemResponse/m:ResponseMessages/m:GetItemResponseMessage/m:Items/t:CalendarItem/t:RequiredAttendees/t:Attendee/t:ResponseType"]
        },
        {
            "syncfolderitems.response.initial-idonly.xml",
            """<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>""",
            [Envelope + "m:SyncFolderItemsResponse/m:ResponseMessages/m:SyncFolderItemsResponseMessage/m:SyncState",
             Envelope + "m:SyncFolderItemsResponse/m:ResponseMessages/m:SyncFolderItemsResponseMessage/m:IncludesLastItemInRange",
             Envelope + "m:SyncFolderItemsResponse/m:ResponseMessages/m:SyncFolderItemsResponseMessage/m:Changes/t:Create"]
        },
    };

    [Theory]
    [MemberData(nameof(SharedShapes))]
    public async Task Simulator_answers_share_the_documented_samples_element_paths(string sample, string operation, string[] paths)
    {
        await using var sim = await StartAsync();
        var documented = XmlPaths.Of(XmlPaths.Sample(sample));
        var (status, answer) = await PostAsync(sim, Soap(operation));
        Assert.Equal(HttpStatusCode.OK, status);
        var simulated = XmlPaths.Of(answer);
        Assert.All(paths, path => Assert.Contains(path, documented));
        Assert.All(paths, path => Assert.Contains(path, simulated));
    }

    [Fact]
    public async Task Https_soap_namespace_of_the_how_to_samples_is_refused_as_Exchange_would()
    {
        await using var sim = await StartAsync();
        var request = Soap("""<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>""")
            .Replace("http://schemas.xmlsoap.org/soap/envelope/", "https://schemas.xmlsoap.org/soap/envelope/");
        await AssertFault(sim, request, "ErrorSchemaValidation");
    }

    [Fact]
    public async Task A_missing_required_element_is_a_schema_fault()
    {
        await using var sim = await StartAsync();
        await AssertFault(sim, Soap("""<m:GetItem><m:ItemIds><t:ItemId Id="meeting"/></m:ItemIds></m:GetItem>"""), "ErrorSchemaValidation");
        await AssertFault(sim, Soap("""<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:MaxChangesReturned>513</m:MaxChangesReturned></m:SyncFolderItems>"""), "ErrorSchemaValidation");
    }

    [Fact]
    public async Task An_unknown_server_version_is_refused()
    {
        await using var sim = await StartAsync();
        await AssertFault(sim, Soap("""<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>""", "Exchange1999"),
            "ErrorInvalidServerVersion");
    }

    [Fact]
    public async Task A_missing_item_is_an_error_message_among_successes()
    {
        await using var sim = await StartAsync();
        var (status, answer) = await PostAsync(sim, Soap("""<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="meeting"/><t:ItemId Id="gone"/></m:ItemIds></m:GetItem>"""));
        Assert.Equal(HttpStatusCode.OK, status);
        var messages = XDocument.Parse(answer).Descendants(XName.Get("GetItemResponseMessage", "http://schemas.microsoft.com/exchange/services/2006/messages")).ToList();
        Assert.Equal(["Success", "Error"], messages.Select(m => (string?)m.Attribute("ResponseClass")));
        Assert.Contains("ErrorItemNotFound", messages[1].ToString());
    }

    private static async Task AssertFault(EwsSimulatorFixture sim, string request, string code)
    {
        var (status, answer) = await PostAsync(sim, request);
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        var detail = XDocument.Parse(answer).Descendants("detail").Single();
        Assert.Equal(code, detail.Element(XName.Get("ResponseCode", "http://schemas.microsoft.com/exchange/services/2006/errors"))?.Value);
    }

    private static Task<EwsSimulatorFixture> StartAsync() => EwsSimulatorFixture.StartAsync(store =>
    {
        var calendar = store.DefaultFolder(Alisa);
        var start = new DateTimeOffset(2026, 11, 30, 1, 0, 0, TimeSpan.Zero);
        store.Put(calendar, new SimCalendarItem
        {
            ItemId = "meeting", Subject = "Code Blast", Start = start, End = start.AddHours(1), Location = "The lounge", Body = "Finish the tests.",
            Attendees = [new SimAttendee("Mack", "Mack@contoso.com")],
        });
        store.Put(calendar, new SimCalendarItem
        {
            ItemId = "weekly", Subject = "Weekly Update Meeting", Start = start, End = start.AddHours(1),
            Recurrence = new SimRecurrence("<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Saturday</t:DaysOfWeek></t:WeeklyRecurrence>",
                "<t:NumberedRecurrence><t:StartDate>2026-11-30</t:StartDate><t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence>"),
        });
        store.AddFolder(Alisa, "Team");
    });

    private static string Soap(string body, string version = "Exchange2013_SP1") => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
                       xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
                       xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
          <soap:Header>
            <t:RequestServerVersion Version="{version}"/>
            <t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{Alisa}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>
          </soap:Header>
          <soap:Body>{body}</soap:Body>
        </soap:Envelope>
        """;

    private static async Task<(HttpStatusCode, string)> PostAsync(EwsSimulatorFixture sim, string envelope)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, sim.Endpoint) { Content = new StringContent(envelope, Encoding.UTF8, "text/xml") };
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{EwsSimulatorFixture.AdminUser}:{EwsSimulatorFixture.AdminPassword}")));
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
