using System.Collections.Concurrent;
using System.Text;

namespace ExchangeBridge.ExchangeSimulator;

public sealed record SimPerson(string? Name, string Email);

/// <summary>An attendee; <paramref name="Response"/> is an EWS ResponseType (Accept, Tentative, Decline, NoResponseReceived …).</summary>
public sealed record SimAttendee(string? Name, string Email, string Response = "NoResponseReceived", bool Optional = false);

/// <summary>
/// A recurrence as EWS writes it: a pattern element and a range element, e.g.
/// <c>&lt;t:WeeklyRecurrence&gt;&lt;t:Interval&gt;1&lt;/t:Interval&gt;&lt;t:DaysOfWeek&gt;Monday&lt;/t:DaysOfWeek&gt;&lt;/t:WeeklyRecurrence&gt;</c>
/// and <c>&lt;t:NoEndRecurrence&gt;&lt;t:StartDate&gt;2026-01-05&lt;/t:StartDate&gt;&lt;/t:NoEndRecurrence&gt;</c> (prefix t).
/// </summary>
public sealed record SimRecurrence(string PatternXml, string RangeXml);

/// <summary>A modified occurrence of a series: an Exception item of its own.</summary>
public sealed record SimException(string ItemId, DateTimeOffset OriginalStart, DateTimeOffset Start, DateTimeOffset End,
    string Subject, string? Location = null, int Version = 1);

/// <summary>A calendar item as the simulator stores it. Times are UTC; the zone is a Windows id, as EWS reports it.</summary>
public sealed record SimCalendarItem
{
    public required string ItemId { get; init; }
    public required string Subject { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required DateTimeOffset End { get; init; }
    public string TimeZoneId { get; init; } = "UTC";
    public bool IsAllDay { get; init; }
    public string? Body { get; init; }
    public string? Location { get; init; }
    public SimPerson? Organizer { get; init; }
    public IReadOnlyList<SimAttendee> Attendees { get; init; } = [];
    public SimRecurrence? Recurrence { get; init; }
    public IReadOnlyList<SimException> Exceptions { get; init; } = [];
    public IReadOnlyList<DateTimeOffset> DeletedOccurrences { get; init; } = [];
    public string FreeBusy { get; init; } = "Busy";
    public int? ReminderMinutes { get; init; } = 15;
    public bool IsCancelled { get; init; }
    public string? Uid { get; init; }
    public int Version { get; init; } = 1;
    public DateTimeOffset LastModified { get; init; } = DateTimeOffset.UnixEpoch;
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UnixEpoch;
    /// <summary>EWS Sensitivity: Normal, Personal, Private or Confidential.</summary>
    public string Sensitivity { get; init; } = "Normal";
    /// <summary>The mailbox owner's own ResponseType (Organizer, Accept, Tentative, Decline, NoResponseReceived).</summary>
    public string MyResponse { get; init; } = "Organizer";
    /// <summary>The join link of the item's online meeting (a Teams meeting), if it has one.</summary>
    public string? OnlineMeetingUrl { get; init; }
    /// <summary>The end's Windows zone id when it differs from the start's; null means <see cref="TimeZoneId"/>.</summary>
    public string? EndTimeZoneId { get; init; }
    /// <summary>
    /// A legacy custom zone (desktop Outlook's "Customized Time Zone"): the rules EWS sends inside StartTimeZone/EndTimeZone
    /// (Periods, TransitionsGroups, Transitions, prefix t), while Graph names it only tzone://Microsoft/Custom.
    /// <see cref="TimeZoneId"/> is then the id EWS sends beside them.
    /// </summary>
    public string? CustomTimeZoneRulesXml { get; init; }

    public string ChangeKey => Convert.ToBase64String(Encoding.UTF8.GetBytes($"ck:{ItemId}:{Version}"));
}

public sealed class SimFolder(string folderId, string displayName, bool isDefault)
{
    private volatile string _displayName = displayName;

    public string FolderId { get; } = folderId;
    /// <summary>Changed by <see cref="MailboxStore.RenameFolder"/>; the id stays, as in Exchange.</summary>
    public string DisplayName { get => _displayName; internal set => _displayName = value; }
    public bool IsDefault { get; } = isDefault;
    internal readonly object Gate = new();
    internal readonly Dictionary<string, SimCalendarItem> Items = new();
    internal readonly Dictionary<string, long> CreatedAt = new();
    /// <summary>One entry per change, in order: what SyncFolderItems replays after a sync state.</summary>
    internal readonly List<(long Sequence, string ItemId)> Changes = [];
    internal long Sequence;
    /// <summary>Bumped by <see cref="MailboxStore.InvalidateSyncStates"/>: sync states of an older epoch are refused.</summary>
    internal int Epoch;
    /// <summary>The last FindItem result (restriction → sorted items) while <see cref="Sequence"/> holds, so paging a
    /// large folder sorts it once, not once per page.</summary>
    internal (string Restriction, long Sequence, List<SimCalendarItem> Items)? LastQuery;

    /// <summary>The index of the first change with a sequence above <paramref name="sequence"/> (call under <see cref="Gate"/>).</summary>
    internal int FirstChangeAfter(long sequence)
    {
        int low = 0, high = Changes.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (Changes[middle].Sequence <= sequence) low = middle + 1;
            else high = middle;
        }
        return low;
    }
}

public sealed class SimMailbox(string address)
{
    public string Address { get; } = address;
    internal readonly ConcurrentDictionary<string, SimFolder> Folders = new();
    /// <summary>Ids of deleted folders: a folder made again with the same name gets a new id, as in Exchange.</summary>
    internal readonly ConcurrentDictionary<string, bool> DeletedFolderIds = new();
}

/// <summary>
/// The simulator's mailboxes, admin accounts and injected faults. Tests fill it; every mutation is recorded so that
/// SyncFolderItems reports it as Exchange would.
/// </summary>
public sealed partial class MailboxStore
{
    private readonly ConcurrentDictionary<string, SimMailbox> _mailboxes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (string Password, HashSet<string>? MayImpersonate)> _admins = new(StringComparer.OrdinalIgnoreCase);
    private int _busyResponses;
    private long _busyBackOffMs;
    private long _requests;

    /// <summary>Requests served so far (benchmarks and tests read it).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>An admin (service) account; <paramref name="mayImpersonate"/> null means every mailbox (ApplicationImpersonation).</summary>
    public void AddAdmin(string username, string password, IEnumerable<string>? mayImpersonate = null)
    {
        _admins[username] = (password, mayImpersonate?.ToHashSet(StringComparer.OrdinalIgnoreCase));
        AddMailbox(username);
    }

    /// <summary>A mailbox with its default calendar folder.</summary>
    public SimMailbox AddMailbox(string address)
    {
        var mailbox = _mailboxes.GetOrAdd(address, a => new SimMailbox(a));
        mailbox.Folders.GetOrAdd(DefaultFolderId(address), id => new SimFolder(id, "Calendar", isDefault: true));
        return mailbox;
    }

    /// <summary>The mailbox's calendar folder of that name (a sub-calendar of the default one), made when there is none.</summary>
    public SimFolder AddFolder(string address, string displayName)
    {
        var mailbox = AddMailbox(address);
        lock (mailbox.Folders)
        {
            if (mailbox.Folders.Values.FirstOrDefault(f => !f.IsDefault && f.DisplayName == displayName) is { } existing) return existing;
            var id = FolderIdFor(address, displayName);
            for (var again = 1; mailbox.Folders.ContainsKey(id) || mailbox.DeletedFolderIds.ContainsKey(id); again++)
                id = FolderIdFor(address, $"{displayName}\u0000{again}");
            return mailbox.Folders.GetOrAdd(id, _ => new SimFolder(id, displayName, isDefault: false));
        }
    }

    /// <summary>Renames a folder as Outlook does: same id, new DisplayName.</summary>
    public void RenameFolder(SimFolder folder, string displayName) => folder.DisplayName = displayName;

    /// <summary>
    /// Deletes a sub-calendar with its items, as Outlook does: it is no longer listed, and any request naming it (or a
    /// sync state of it) is answered ErrorFolderNotFound (Graph: 404 ErrorItemNotFound). The default calendar cannot be deleted.
    /// </summary>
    public void DeleteFolder(string address, SimFolder folder)
    {
        if (folder.IsDefault) throw new InvalidOperationException("The default calendar folder cannot be deleted.");
        var mailbox = AddMailbox(address);
        lock (mailbox.Folders)
        {
            mailbox.Folders.TryRemove(folder.FolderId, out _);
            mailbox.DeletedFolderIds[folder.FolderId] = true;
        }
    }

    public SimFolder DefaultFolder(string address) => AddMailbox(address).Folders[DefaultFolderId(address)];

    /// <summary>Adds or replaces an item; a replacement gets a new change key.</summary>
    public SimCalendarItem Put(SimFolder folder, SimCalendarItem item)
    {
        lock (folder.Gate)
        {
            var stored = folder.Items.TryGetValue(item.ItemId, out var old) ? item with { Version = old.Version + 1 } : item;
            folder.Items[item.ItemId] = stored;
            var sequence = ++folder.Sequence;
            folder.CreatedAt.TryAdd(item.ItemId, sequence);
            folder.Changes.Add((sequence, item.ItemId));
            return stored;
        }
    }

    public bool Delete(SimFolder folder, string itemId)
    {
        lock (folder.Gate)
        {
            if (!folder.Items.Remove(itemId)) return false;
            folder.Changes.Add((++folder.Sequence, itemId));
            return true;
        }
    }

    /// <summary>The next <paramref name="count"/> requests are refused with ErrorServerBusy and BackOffMilliseconds.</summary>
    public void RefuseAsBusy(int count, TimeSpan backOff)
    {
        Interlocked.Exchange(ref _busyBackOffMs, (long)backOff.TotalMilliseconds);
        Interlocked.Exchange(ref _busyResponses, count);
    }

    /// <summary>Every sync state issued so far for the mailbox's folders is answered with ErrorInvalidSyncStateData.</summary>
    public void InvalidateSyncStates(string address)
    {
        foreach (var folder in AddMailbox(address).Folders.Values)
            lock (folder.Gate) folder.Epoch++;
    }

    /// <summary>
    /// What an importer of the folder ends with in a Feishu-shaped store: one event per single item or series master,
    /// plus one instance per modified occurrence and one cancelled instance per deleted occurrence.
    /// </summary>
    public int CountImportableEvents(SimFolder folder)
    {
        lock (folder.Gate) return folder.Items.Values.Sum(item => 1 + item.Exceptions.Count + item.DeletedOccurrences.Count);
    }

    /// <summary>
    /// A deterministic mailbox of <paramref name="count"/> items spread over the years around <paramref name="around"/>, for
    /// large-mailbox tests and the import benchmark: mostly singles with attendees and bodies; every 20th a weekly series
    /// (one in five of those with a moved and a cancelled occurrence); every 25th all-day. Items are compact records that
    /// share their people, so 100,000 of them stay small; XML is written only when asked for.
    /// </summary>
    public void Generate(SimFolder folder, int count, DateTimeOffset around, int seed = 1)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var day = around.UtcDateTime.Date.AddDays(random.Next(-3 * 365, 2 * 365));
            var start = new DateTimeOffset(day, TimeSpan.Zero).AddMinutes(random.Next(0, 24 * 4) * 15);
            var item = new SimCalendarItem
            {
                ItemId = GeneratedItemId(seed, i),
                Subject = $"Generated meeting {i}",
                Start = start,
                End = start.AddMinutes(30 * random.Next(1, 5)),
                TimeZoneId = i % 3 == 0 ? "China Standard Time" : "Pacific Standard Time",
                Body = $"Agenda item {i}",
                Location = $"Room {random.Next(1, 40)}",
                Organizer = GeneratedOrganizer,
                Attendees = GeneratedAttendees,
                Uid = $"uid-gen-{seed}-{i}",
                LastModified = start.AddDays(-7),
                Created = start.AddDays(-30),
            };
            if (i % 25 == 24)
            {
                var midnight = new DateTimeOffset(day, TimeSpan.Zero).AddHours(-8); // midnight in China Standard Time
                item = item with { Start = midnight, End = midnight.AddDays(1), IsAllDay = true, TimeZoneId = "China Standard Time", Attendees = [] };
            }
            else if (i % 20 == 19)
            {
                item = item with
                {
                    Recurrence = new SimRecurrence(
                        $"<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>{start.DayOfWeek}</t:DaysOfWeek></t:WeeklyRecurrence>",
                        $"<t:NumberedRecurrence><t:StartDate>{start:yyyy-MM-dd}</t:StartDate><t:NumberOfOccurrences>{random.Next(2, 53)}</t:NumberOfOccurrences></t:NumberedRecurrence>"),
                };
                if (i % 100 == 39)
                    item = item with
                    {
                        Exceptions = [new SimException(GeneratedItemId(seed, i, "x1"), start.AddDays(7), start.AddDays(7).AddHours(1), item.End.AddDays(7).AddHours(1), $"{item.Subject} (moved)")],
                        DeletedOccurrences = [start.AddDays(14)],
                    };
            }
            Put(folder, item);
        }
    }

    /// <summary>
    /// The id <see cref="Generate"/> gives its item number <paramref name="index"/> (or that item's exception): an id in
    /// EWS's form, standard base64 that may hold '/' and '+', so Graph's REST form of it differs as it does in Exchange.
    /// </summary>
    public static string GeneratedItemId(int seed, int index, string? exception = null) =>
        "AAMkAG" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"gen\n{seed}\n{index}\n{exception}")))[..38] + "AAA=";

    private static readonly SimPerson GeneratedOrganizer = new("Organizer", "organizer@contoso.com");

    private static readonly IReadOnlyList<SimAttendee> GeneratedAttendees =
        [new SimAttendee("Alisa", "alisa@contoso.com", "Accept"), new SimAttendee("Bob", "bob@contoso.com", "Tentative", Optional: true)];

    internal bool TryAuthenticate(string username, string password) =>
        _admins.TryGetValue(username, out var admin) &&
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(admin.Password), Encoding.UTF8.GetBytes(password));

    internal bool MayImpersonate(string username, string mailbox) =>
        _admins.TryGetValue(username, out var admin) && (admin.MayImpersonate is null || admin.MayImpersonate.Contains(mailbox));

    internal SimMailbox? Mailbox(string address) => _mailboxes.GetValueOrDefault(address);

    internal SimFolder? Folder(string folderId) =>
        _mailboxes.Values.SelectMany(m => m.Folders.Values).FirstOrDefault(f => f.FolderId == folderId);

    /// <summary>An item stored in one of the mailbox's folders, or the exception of a master that is (with its master).</summary>
    internal static (SimCalendarItem? Item, SimException? Exception) FindItemById(SimMailbox mailbox, string itemId)
    {
        foreach (var folder in mailbox.Folders.Values)
            lock (folder.Gate)
            {
                if (folder.Items.TryGetValue(itemId, out var item)) return (item, null);
                foreach (var master in folder.Items.Values)
                    if (master.Exceptions.FirstOrDefault(e => e.ItemId == itemId) is { } exception) return (master, exception);
            }
        return (null, null);
    }

    internal bool TakeBusy(out long backOffMs)
    {
        Interlocked.Increment(ref _requests);
        backOffMs = Interlocked.Read(ref _busyBackOffMs);
        while (true)
        {
            var left = Volatile.Read(ref _busyResponses);
            if (left <= 0) return false;
            if (Interlocked.CompareExchange(ref _busyResponses, left - 1, left) == left) return true;
        }
    }

    private static string DefaultFolderId(string address) => FolderIdFor(address, "\u0000calendar");

    private static string FolderIdFor(string address, string name) =>
        "AAMk" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{address.ToLowerInvariant()}\n{name}")))[..24];
}
