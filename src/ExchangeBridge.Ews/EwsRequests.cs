using System.Globalization;
using System.Text;
using System.Xml;
using static ExchangeBridge.Ews.EwsNames;

namespace ExchangeBridge.Ews;

/// <summary>Writes the SOAP envelopes the connector sends. Pure: bytes in, bytes out, so tests can read them.</summary>
internal static class EwsRequests
{
    public const string ServerVersion = "Exchange2013_SP1";

    /// <summary>
    /// What GetItem asks for: everything the import model needs and nothing heavier (no MIME). The start and end zones
    /// come as definitions, since a custom zone is known only by its rules; a known zone's rules are skipped unread.
    /// </summary>
    internal static readonly string[] EventProperties =
    [
        "item:Subject", "item:Sensitivity", "item:Body", "item:DateTimeCreated", "item:LastModifiedTime", "item:ReminderIsSet",
        "item:ReminderMinutesBeforeStart", "calendar:UID", "calendar:Start", "calendar:End", "calendar:OriginalStart",
        "calendar:IsAllDayEvent", "calendar:LegacyFreeBusyStatus", "calendar:Location", "calendar:IsCancelled",
        "calendar:CalendarItemType", "calendar:MyResponseType", "calendar:Organizer", "calendar:RequiredAttendees",
        "calendar:OptionalAttendees", "calendar:Resources", "calendar:Recurrence", "calendar:ModifiedOccurrences",
        "calendar:DeletedOccurrences", "calendar:StartTimeZone", "calendar:EndTimeZone", "calendar:JoinOnlineMeetingUrl",
    ];

    private static readonly XmlWriterSettings Settings = new() { Encoding = new UTF8Encoding(false), Indent = false };

    public static byte[] GetCalendarFolder(string? impersonated, bool withNames) => Envelope(impersonated, w =>
    {
        w.WriteStartElement("m", "GetFolder", MessagesUri);
        FolderShape(w, withNames);
        w.WriteStartElement("FolderIds", MessagesUri);
        w.WriteStartElement("DistinguishedFolderId", TypesUri);
        w.WriteAttributeString("Id", "calendar");
        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteEndElement();
    });

    public static byte[] FindCalendarSubfolders(string impersonated, int offset, int maxEntries) => Envelope(impersonated, w =>
    {
        w.WriteStartElement("m", "FindFolder", MessagesUri);
        w.WriteAttributeString("Traversal", "Deep");
        FolderShape(w, withNames: true);
        IndexedView(w, "IndexedPageFolderView", offset, maxEntries);
        w.WriteStartElement("ParentFolderIds", MessagesUri);
        w.WriteStartElement("DistinguishedFolderId", TypesUri);
        w.WriteAttributeString("Id", "calendar");
        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteEndElement();
    });

    /// <summary>Singles and masters touching [from, to), plus every master; sorted by start so offsets stay meaningful.</summary>
    public static byte[] FindItemsInWindow(string impersonated, string folderId, DateTimeOffset from, DateTimeOffset to, int offset, int maxEntries) =>
        Envelope(impersonated, w =>
        {
            w.WriteStartElement("m", "FindItem", MessagesUri);
            w.WriteAttributeString("Traversal", "Shallow");
            IdOnlyShape(w, "ItemShape");
            IndexedView(w, "IndexedPageItemView", offset, maxEntries);
            w.WriteStartElement("Restriction", MessagesUri);
            w.WriteStartElement("Or", TypesUri);
            Comparison(w, "IsEqualTo", "calendar:CalendarItemType", "RecurringMaster");
            w.WriteStartElement("And", TypesUri);
            Comparison(w, "IsLessThan", "calendar:Start", Utc(to));
            Comparison(w, "IsGreaterThan", "calendar:End", Utc(from));
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteStartElement("SortOrder", MessagesUri);
            w.WriteStartElement("FieldOrder", TypesUri);
            w.WriteAttributeString("Order", "Ascending");
            FieldUri(w, "calendar:Start");
            w.WriteEndElement();
            w.WriteEndElement();
            ParentFolder(w, "ParentFolderIds", folderId);
            w.WriteEndElement();
        });

    public static byte[] SyncFolderItems(string impersonated, string folderId, string? syncState, int maxChanges) => Envelope(impersonated, w =>
    {
        w.WriteStartElement("m", "SyncFolderItems", MessagesUri);
        IdOnlyShape(w, "ItemShape");
        ParentFolder(w, "SyncFolderId", folderId);
        if (syncState is not null) w.WriteElementString("SyncState", MessagesUri, syncState);
        w.WriteElementString("MaxChangesReturned", MessagesUri, maxChanges.ToString(CultureInfo.InvariantCulture));
        w.WriteElementString("SyncScope", MessagesUri, "NormalItems");
        w.WriteEndElement();
    });

    public static byte[] GetItems(string impersonated, IEnumerable<string> itemIds) => Envelope(impersonated, w =>
    {
        w.WriteStartElement("m", "GetItem", MessagesUri);
        w.WriteStartElement("ItemShape", MessagesUri);
        w.WriteElementString("BaseShape", TypesUri, "IdOnly");
        w.WriteElementString("BodyType", TypesUri, "Text");
        w.WriteStartElement("AdditionalProperties", TypesUri);
        foreach (var property in EventProperties) FieldUri(w, property);
        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteStartElement("ItemIds", MessagesUri);
        foreach (var id in itemIds)
        {
            w.WriteStartElement("ItemId", TypesUri);
            w.WriteAttributeString("Id", id);
            w.WriteEndElement();
        }
        w.WriteEndElement();
        w.WriteEndElement();
    });

    /// <summary>The masters of the given occurrences/exceptions (RecurringMasterItemId), ids only.</summary>
    public static byte[] GetMastersOf(string impersonated, IEnumerable<string> occurrenceIds) => Envelope(impersonated, w =>
    {
        w.WriteStartElement("m", "GetItem", MessagesUri);
        IdOnlyShape(w, "ItemShape");
        w.WriteStartElement("ItemIds", MessagesUri);
        foreach (var id in occurrenceIds)
        {
            w.WriteStartElement("RecurringMasterItemId", TypesUri);
            w.WriteAttributeString("OccurrenceId", id);
            w.WriteEndElement();
        }
        w.WriteEndElement();
        w.WriteEndElement();
    });

    private static byte[] Envelope(string? impersonated, Action<XmlWriter> writeBody)
    {
        using var buffer = new MemoryStream();
        using (var w = XmlWriter.Create(buffer, Settings))
        {
            w.WriteStartElement("soap", "Envelope", SoapUri);
            w.WriteAttributeString("xmlns", "t", null, TypesUri);
            w.WriteAttributeString("xmlns", "m", null, MessagesUri);
            w.WriteStartElement("Header", SoapUri);
            w.WriteStartElement("RequestServerVersion", TypesUri);
            w.WriteAttributeString("Version", ServerVersion);
            w.WriteEndElement();
            if (impersonated is not null)
            {
                w.WriteStartElement("ExchangeImpersonation", TypesUri);
                w.WriteStartElement("ConnectingSID", TypesUri);
                w.WriteElementString("PrimarySmtpAddress", TypesUri, impersonated);
                w.WriteEndElement();
                w.WriteEndElement();
            }
            w.WriteEndElement();
            w.WriteStartElement("Body", SoapUri);
            writeBody(w);
            w.WriteEndElement();
            w.WriteEndElement();
        }
        return buffer.ToArray();
    }

    private static void FolderShape(XmlWriter w, bool withNames)
    {
        w.WriteStartElement("FolderShape", MessagesUri);
        w.WriteElementString("BaseShape", TypesUri, "IdOnly");
        if (withNames)
        {
            w.WriteStartElement("AdditionalProperties", TypesUri);
            FieldUri(w, "folder:DisplayName");
            FieldUri(w, "folder:FolderClass");
            w.WriteEndElement();
        }
        w.WriteEndElement();
    }

    private static void IdOnlyShape(XmlWriter w, string name)
    {
        w.WriteStartElement(name, MessagesUri);
        w.WriteElementString("BaseShape", TypesUri, "IdOnly");
        w.WriteEndElement();
    }

    /// <summary>FindFolder pages with IndexedPageFolderView, FindItem with IndexedPageItemView; same attributes.</summary>
    private static void IndexedView(XmlWriter w, string element, int offset, int maxEntries)
    {
        w.WriteStartElement(element, MessagesUri);
        w.WriteAttributeString("MaxEntriesReturned", maxEntries.ToString(CultureInfo.InvariantCulture));
        w.WriteAttributeString("Offset", offset.ToString(CultureInfo.InvariantCulture));
        w.WriteAttributeString("BasePoint", "Beginning");
        w.WriteEndElement();
    }

    private static void Comparison(XmlWriter w, string op, string fieldUri, string constant)
    {
        w.WriteStartElement(op, TypesUri);
        FieldUri(w, fieldUri);
        w.WriteStartElement("FieldURIOrConstant", TypesUri);
        w.WriteStartElement("Constant", TypesUri);
        w.WriteAttributeString("Value", constant);
        w.WriteEndElement();
        w.WriteEndElement();
        w.WriteEndElement();
    }

    private static void FieldUri(XmlWriter w, string fieldUri)
    {
        w.WriteStartElement("FieldURI", TypesUri);
        w.WriteAttributeString("FieldURI", fieldUri);
        w.WriteEndElement();
    }

    private static void ParentFolder(XmlWriter w, string wrapper, string folderId)
    {
        w.WriteStartElement(wrapper, MessagesUri);
        w.WriteStartElement("FolderId", TypesUri);
        w.WriteAttributeString("Id", folderId);
        w.WriteEndElement();
        w.WriteEndElement();
    }

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
