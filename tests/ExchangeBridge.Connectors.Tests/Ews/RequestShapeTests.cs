using System.Net;
using System.Text;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Ews;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>The connector's requests share the element paths of Microsoft's documented request samples.</summary>
public class RequestShapeTests
{
    private const string Body = "s:Envelope/s:Body/";
    private static readonly ExchangeAdminAccount Admin =
        new("admin@contoso.com", ExchangeConnectorKind.Ews, new Uri("https://mail.contoso.com"), "admin@contoso.com", "pw");

    [Fact]
    public async Task FindItem_is_an_indexed_restricted_shallow_search_like_the_recurrence_sample()
    {
        var sent = await CaptureAsync(c => c.FindItemsInWindowAsync(Admin, "alisa@contoso.com", "AAMk", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1), 0, 100, default));
        AssertShared(sent, "finditem-restriction-calendar.request.xml",
            "s:Envelope/s:Header/t:RequestServerVersion@Version",
            Body + "m:FindItem@Traversal", Body + "m:FindItem/m:ItemShape/t:BaseShape",
            Body + "m:FindItem/m:IndexedPageItemView@MaxEntriesReturned", Body + "m:FindItem/m:IndexedPageItemView@Offset",
            Body + "m:FindItem/m:IndexedPageItemView@BasePoint",
            Body + "m:FindItem/m:ParentFolderIds");
        var paths = XmlPaths.Of(sent);
        Assert.Contains(Body + "m:FindItem/m:Restriction/t:Or/t:IsEqualTo/t:FieldURIOrConstant/t:Constant@Value", paths);
        Assert.Contains(Body + "m:FindItem/m:Restriction/t:Or/t:And/t:IsLessThan/t:FieldURI@FieldURI", paths);
        Assert.Contains(Body + "m:FindItem/m:Restriction/t:Or/t:And/t:IsGreaterThan/t:FieldURIOrConstant/t:Constant@Value", paths);
    }

    [Fact]
    public async Task FindFolder_pages_with_IndexedPageFolderView_like_the_deep_sample()
    {
        var sent = await CaptureAsync(c => c.ListCalendarFoldersAsync(Admin, "alisa@contoso.com", default), skip: 1);
        AssertShared(sent, "findfolder.request.deep.xml",
            Body + "m:FindFolder@Traversal", Body + "m:FindFolder/m:FolderShape/t:BaseShape",
            Body + "m:FindFolder/m:FolderShape/t:AdditionalProperties/t:FieldURI@FieldURI",
            Body + "m:FindFolder/m:IndexedPageFolderView@Offset", Body + "m:FindFolder/m:ParentFolderIds/t:DistinguishedFolderId@Id");
    }

    [Fact]
    public async Task SyncFolderItems_is_IdOnly_with_a_change_limit_like_the_initial_sync_sample()
    {
        var sent = await CaptureAsync(c => c.SyncFolderAsync(Admin, "alisa@contoso.com", "AAMk", null, 100, default));
        AssertShared(sent, "syncfolderitems.request.initial-idonly.xml",
            Body + "m:SyncFolderItems/m:ItemShape/t:BaseShape", Body + "m:SyncFolderItems/m:SyncFolderId",
            Body + "m:SyncFolderItems/m:MaxChangesReturned", Body + "m:SyncFolderItems/m:SyncScope");
        Assert.Contains(Body + "m:SyncFolderItems/m:SyncFolderId/t:FolderId@Id", XmlPaths.Of(sent));
    }

    [Fact]
    public async Task GetItem_asks_for_the_recurrence_properties_like_the_recurring_master_sample()
    {
        var sent = await CaptureAsync(c => c.GetEventsAsync(Admin, "alisa@contoso.com", ["AAMkAD"], default));
        AssertShared(sent, "getitem-recurring-master.request.xml",
            Body + "m:GetItem/m:ItemShape/t:BaseShape", Body + "m:GetItem/m:ItemShape/t:AdditionalProperties/t:FieldURI@FieldURI",
            Body + "m:GetItem/m:ItemIds/t:ItemId@Id");
        foreach (var field in new[] { "calendar:Recurrence", "calendar:ModifiedOccurrences", "calendar:DeletedOccurrences", "calendar:CalendarItemType" })
            Assert.Contains($"FieldURI=\"{field}\"", sent);
    }

    private static void AssertShared(string sent, string sample, params string[] paths)
    {
        var documented = XmlPaths.Of(XmlPaths.Sample(sample));
        var ours = XmlPaths.Of(sent);
        Assert.All(paths, path => Assert.Contains(path, documented));
        Assert.All(paths, path => Assert.Contains(path, ours));
    }

    /// <summary>The body of the request after the first <paramref name="skip"/>, each answered with an empty success.</summary>
    private static async Task<string> CaptureAsync(Func<EwsConnector, Task> call, int skip = 0)
    {
        var handler = new CapturingHandler();
        try
        {
            await call(new EwsConnector(new HttpClient(handler)));
        }
        catch (ExchangeConnectorException)
        {
            // The canned answer is not what every operation expects; only the request matters here.
        }
        return handler.Bodies[skip];
    }

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public List<string> Bodies { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Bodies.Add(await request.Content!.ReadAsStringAsync(cancellationToken));
            const string answer = """
                <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
                <m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
                <m:ResponseMessages><m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
                <m:Folders><t:CalendarFolder><t:FolderId Id="AAMk" ChangeKey="AgAA"/></t:CalendarFolder></m:Folders>
                <m:RootFolder IndexedPagingOffset="0" TotalItemsInView="0" IncludesLastItemInRange="true"/>
                <m:SyncState>x</m:SyncState><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>
                </m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse></s:Body></s:Envelope>
                """;
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer, Encoding.UTF8, "text/xml") };
        }
    }
}
