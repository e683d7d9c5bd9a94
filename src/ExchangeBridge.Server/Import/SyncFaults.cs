using System.Net.Sockets;
using System.Security.Cryptography;
using ExchangeBridge.Core.Exchange;

namespace ExchangeBridge.Server.Import;

/// <summary>What a failed attempt means for its binding (docs/architecture.md has the table).</summary>
public enum SyncFaultKind
{
    /// <summary>The server asked us to wait (ErrorServerBusy, 429): back at its hint, the status kept.</summary>
    Throttled,
    /// <summary>The network, a timeout, a 5xx, a transient EWS code: back off and try again, forever, the status kept.</summary>
    Transient,
    /// <summary>Only a person can fix it (credentials, impersonation, the mailbox): err at once, tried again hourly.</summary>
    NeedsPerson,
    /// <summary>A failure nobody planned for: retried with back-off a few times, then err, then tried again hourly.</summary>
    Unexpected,
}

/// <param name="Reason">What an operator reads in the binding's error_reason: the kind first, then what happened and what to do.</param>
/// <param name="AccountWide">Throttled for the admin account as a whole (<see cref="ExchangeConnectorException.AccountWide"/>).</param>
public sealed record SyncFault(SyncFaultKind Kind, string Reason, TimeSpan? RetryAfter = null, bool AccountWide = false);

/// <summary>Sorts the exceptions an import attempt ends with into <see cref="SyncFaultKind"/>s, in one place.</summary>
public static class SyncFaults
{
    public static SyncFault Classify(Exception e) => e switch
    {
        ExchangeConnectorException x => x.Kind switch
        {
            ExchangeFailureKind.Throttled => new(SyncFaultKind.Throttled, $"Throttled: {x.Message}", x.RetryAfter, x.AccountWide),
            // A folder or item that vanished mid-sync, or a sync state the server forgot, is gone on the next attempt.
            ExchangeFailureKind.Transient or ExchangeFailureKind.NotFound or ExchangeFailureKind.InvalidSyncState =>
                new(SyncFaultKind.Transient, $"Transient: {x.Message}"),
            ExchangeFailureKind.Unauthorized => new(SyncFaultKind.NeedsPerson,
                $"Unauthorized: Exchange refused the admin account's credentials ({x.Message}). Register the admin account again " +
                "with its current password or client secret; its bindings are then retried at once."),
            ExchangeFailureKind.ImpersonationDenied => new(SyncFaultKind.NeedsPerson,
                $"ImpersonationDenied: the admin account may not open this mailbox ({x.Message}). EWS: give the account the " +
                "ApplicationImpersonation role; Graph: grant the app Calendars.Read and include the mailbox in its application " +
                "access policy. Then verify the admin account again or retry the binding."),
            ExchangeFailureKind.MailboxNotFound => new(SyncFaultKind.NeedsPerson,
                $"MailboxNotFound: Exchange has no such mailbox ({x.Message}). Check the address: unbind and bind the right one, " +
                "or retry the binding once the mailbox exists."),
            _ => new(SyncFaultKind.NeedsPerson,
                $"Permanent: {x.Message}. Retry the binding once the cause is fixed; the server log has the details."),
        },
        HttpRequestException or TimeoutException or IOException or SocketException => new(SyncFaultKind.Transient, $"Transient: {e.Message}"),
        // HttpClient's timeout (the caller's own cancellation is shutdown, handled before this).
        TaskCanceledException => new(SyncFaultKind.Transient, $"Transient: the request timed out ({e.Message})"),
        CryptographicException => new(SyncFaultKind.Unexpected,
            "Unexpected: the admin account's stored credentials cannot be decrypted with this server's master key (was the " +
            "master key changed?). Restore the master key, or register the admin account again."),
        _ => new(SyncFaultKind.Unexpected,
            $"Unexpected: {e.GetType().Name}: {e.Message}. The server log has the details; retry the binding once the cause is fixed."),
    };
}
