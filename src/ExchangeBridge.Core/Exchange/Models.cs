namespace ExchangeBridge.Core.Exchange;

public enum ExchangeConnectorKind { Ews, Graph }

/// <summary>What an admin account's <see cref="ExchangeAdminAccount.Secret"/> holds.</summary>
public enum AdminCredentialKind
{
    /// <summary>A password (EWS) or an app's client secret (Graph).</summary>
    Secret,
    /// <summary>An app's certificate with its private key, in PEM (Graph): the token request is a signed client assertion.</summary>
    Certificate,
}

/// <summary>An Exchange admin (service) account as the connector needs it, credentials already decrypted.</summary>
public sealed record ExchangeAdminAccount(
    string Email,
    ExchangeConnectorKind Connector,
    Uri Endpoint,
    string Username,
    string Secret,
    string? GraphTenantId = null,
    string? GraphClientId = null,
    AdminCredentialKind Credential = AdminCredentialKind.Secret);

public sealed record ExchangeCalendarFolder(string FolderId, string DisplayName, bool IsDefault);

/// <summary>An item's identity and version: enough to decide whether it must be fetched again.</summary>
public sealed record ItemRef(string ItemId, string ChangeKey);

public sealed record WindowPage(IReadOnlyList<ItemRef> Items, int? NextOffset);

public sealed record SyncPage(
    IReadOnlyList<ItemRef> CreatedOrUpdated,
    IReadOnlyList<string> DeletedItemIds,
    string SyncState,
    bool IncludesLastItemInRange);

public enum ExchangeFailureKind
{
    /// <summary>401: the admin credentials are refused.</summary>
    Unauthorized,
    /// <summary>The admin account may not impersonate the mailbox (ErrorImpersonateUserDenied and kin).</summary>
    ImpersonationDenied,
    /// <summary>The mailbox does not exist (ErrorNonExistentMailbox).</summary>
    MailboxNotFound,
    /// <summary>Throttled (ErrorServerBusy, HTTP 429/503); <see cref="ExchangeConnectorException.RetryAfter"/> says when.</summary>
    Throttled,
    /// <summary>The stored sync state is no longer accepted (ErrorInvalidSyncStateData): resync from scratch.</summary>
    InvalidSyncState,
    /// <summary>A folder or item vanished between two calls.</summary>
    NotFound,
    /// <summary>Network faults, 5xx, timeouts: worth a retry.</summary>
    Transient,
    /// <summary>Anything else the server refused; retrying will not help.</summary>
    Permanent,
}

public sealed class ExchangeConnectorException(
    ExchangeFailureKind kind, string message, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public ExchangeFailureKind Kind { get; } = kind;
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>
    /// A throttled answer about the calling account as a whole (EWS ErrorExceededConnectionCount, an HTTP 429 or 503 of
    /// the server), not one mailbox's budget: the caller should run fewer requests with this account at once.
    /// </summary>
    public bool AccountWide { get; init; }
    public bool IsRetryable => Kind is ExchangeFailureKind.Throttled or ExchangeFailureKind.Transient;
}

public enum AttendeeKind { Required, Optional, Resource }

/// <summary>Feishu's rsvp vocabulary: needs_action, accept, tentative, decline.</summary>
public enum AttendeeResponse { NeedsAction, Accept, Tentative, Decline }

public enum FreeBusy { Free, Tentative, Busy, OutOfOffice, WorkingElsewhere }

/// <summary>Exchange's Sensitivity (Graph's sensitivity): who may see an item's details.</summary>
public enum EventSensitivity { Normal, Personal, Private, Confidential }

public sealed record EventPerson(string? Name, string Email);

public sealed record EventAttendee(string? Name, string Email, AttendeeKind Kind, AttendeeResponse Response);

/// <summary>
/// One calendar item as imported. A recurring series is its master (with <see cref="RecurrenceRule"/>) plus one
/// item per modified occurrence (<see cref="SeriesMasterId"/> and <see cref="OriginalStart"/> set); deleted
/// occurrences are listed on the master.
/// </summary>
public sealed record ExchangeEvent(
    string ItemId,
    string ChangeKey,
    string? ICalUid,
    string Subject,
    string? Body,
    string? Location,
    DateTimeOffset Start,
    DateTimeOffset End,
    /// <summary>IANA zone id (mapped from Windows ids for EWS).</summary>
    string TimeZone,
    bool IsAllDay,
    EventPerson? Organizer,
    IReadOnlyList<EventAttendee> Attendees,
    /// <summary>RFC 5545 RRULE value without the "RRULE:" prefix, e.g. "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,WE".</summary>
    string? RecurrenceRule,
    /// <summary>Original start times of the deleted occurrences of a series (EXDATE).</summary>
    IReadOnlyList<DateTimeOffset> DeletedOccurrences,
    string? SeriesMasterId,
    DateTimeOffset? OriginalStart,
    FreeBusy FreeBusy,
    int? ReminderMinutesBeforeStart,
    bool IsCancelled,
    DateTimeOffset? LastModified,
    /// <summary>When the item was created (EWS DateTimeCreated, Graph createdDateTime).</summary>
    DateTimeOffset? Created = null,
    /// <summary>IANA zone of the end, when it differs from the start's (a flight); null means <see cref="TimeZone"/>.</summary>
    string? EndTimeZone = null,
    /// <summary>Start of the last occurrence of a series that ends (a count or an end date); null for singles and endless series.</summary>
    DateTimeOffset? LastOccurrenceStart = null,
    EventSensitivity Sensitivity = EventSensitivity.Normal,
    /// <summary>The link that joins the item's online meeting (Teams, Skype), if it has one.</summary>
    string? OnlineMeetingUrl = null,
    /// <summary>The mailbox owner's own response to the item (Accept for the organizer).</summary>
    AttendeeResponse OwnResponse = AttendeeResponse.NeedsAction);
