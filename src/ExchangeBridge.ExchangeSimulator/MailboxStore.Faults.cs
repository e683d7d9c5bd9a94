using System.Collections.Concurrent;

namespace ExchangeBridge.ExchangeSimulator;

/// <summary>How the simulator answers a mailbox's requests during an injected outage (<see cref="MailboxStore.InjectFault"/>).</summary>
public enum SimFault
{
    /// <summary>
    /// The connection is dropped without an answer (the client sees a reset). A refused connection cannot be told apart
    /// per mailbox on one listener, so this stands for it.
    /// </summary>
    Refuse,
    /// <summary>EWS: HTTP 500 SOAP fault ErrorInternalServerTransientError; Graph: HTTP 500 generalException.</summary>
    InternalServerError,
    /// <summary>EWS: HTTP 500 SOAP fault ErrorServerBusy with BackOffMilliseconds; Graph: HTTP 429 ApplicationThrottled with Retry-After.</summary>
    ServerBusy,
    /// <summary>No answer at all: the request waits until the client gives up.</summary>
    Hang,
}

/// <summary>Outages, hangs and password rotation, per mailbox and per admin account, for the import's fault tests and demos.</summary>
public sealed partial class MailboxStore
{
    private readonly ConcurrentDictionary<string, InjectedFault> _faults = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The next <paramref name="requests"/> requests for <paramref name="mailbox"/> (all of them when null, until
    /// <see cref="ClearFault"/>) are answered with <paramref name="fault"/>; <paramref name="backOff"/> is the busy answer's hint.
    /// Requests without impersonation (an admin account checking itself) count as its own mailbox's.
    /// </summary>
    public void InjectFault(string mailbox, SimFault fault, int? requests = null, TimeSpan? backOff = null) =>
        _faults[mailbox] = new InjectedFault(fault, requests ?? int.MaxValue, (long)(backOff ?? TimeSpan.FromSeconds(30)).TotalMilliseconds);

    public void ClearFault(string mailbox) => _faults.TryRemove(mailbox, out _);

    /// <summary>
    /// A new password for an EWS admin account: the old one is refused from now on (HTTP 401), its impersonation rights
    /// stay. (A Graph app's secret rotates by registering the app again: <see cref="AddGraphApp(string, string, string, IEnumerable{string})"/>.)
    /// </summary>
    public void ChangePassword(string username, string newPassword) =>
        _admins.AddOrUpdate(username, _ => throw new InvalidOperationException($"no admin account {username}"),
            (_, admin) => admin with { Password = newPassword });

    /// <summary>The fault a request for the mailbox gets, if one is injected and not used up.</summary>
    internal bool TakeFault(string mailbox, out SimFault fault, out long backOffMs)
    {
        (fault, backOffMs) = (default, 0);
        if (!_faults.TryGetValue(mailbox, out var injected)) return false;
        if (Interlocked.Decrement(ref injected.Left) < 0) return false;
        (fault, backOffMs) = (injected.Fault, injected.BackOffMs);
        return true;
    }

    /// <summary>A hanging answer: nothing until the client gives up (or the simulator stops).</summary>
    internal static async Task HangAsync(CancellationToken requestAborted)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, requestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client gave up, as it should.
        }
    }

    private sealed class InjectedFault(SimFault fault, int requests, long backOffMs)
    {
        public SimFault Fault { get; } = fault;
        public long BackOffMs { get; } = backOffMs;
        public int Left = requests;
    }
}
