using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace ExchangeBridge.ExchangeSimulator;

/// <summary>Exchange's throttling (<see cref="ThrottlingPolicy"/>), enforced on every EWS and Graph request once asked for.</summary>
public sealed partial class MailboxStore
{
    private ExchangeThrottle _throttle = new(ThrottlingPolicy.Unlimited, TimeProvider.System);

    /// <summary>
    /// Enforces <paramref name="policy"/> from now on, with fresh budgets (a new store enforces
    /// <see cref="ThrottlingPolicy.Unlimited"/>: only the injected busy answers). <paramref name="clock"/> is the time
    /// budgets recharge by, so that a test can move it.
    /// </summary>
    public void EnforceThrottling(ThrottlingPolicy policy, TimeProvider? clock = null) =>
        Volatile.Write(ref _throttle, new ExchangeThrottle(policy, clock ?? TimeProvider.System));

    /// <summary>What the throttling let through and refused since it was last set.</summary>
    public ThrottlingCounters ThrottlingCounters => Throttle.Counters;

    internal ExchangeThrottle Throttle => Volatile.Read(ref _throttle);
}

/// <summary>
/// Concurrency slots and budgets by key (the EWS calling account or mailbox; the Graph app and mailbox). A budget is a
/// bucket that starts full, pays for each admitted request and refills at a steady rate; a request it cannot pay for is
/// refused with the time until it could.
/// </summary>
internal sealed class ExchangeThrottle(ThrottlingPolicy policy, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, StrongBox<int>> _open = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Budget> _budgets = new(StringComparer.OrdinalIgnoreCase);
    private long _admitted, _refusedForConcurrency, _refusedForBudget, _busyTicks;
    private int _peakConcurrency;

    public ThrottlingPolicy Policy => policy;

    public ThrottlingCounters Counters => new(Interlocked.Read(ref _admitted), Interlocked.Read(ref _refusedForConcurrency),
        Interlocked.Read(ref _refusedForBudget), TimeSpan.FromTicks(Interlocked.Read(ref _busyTicks)).TotalSeconds, Volatile.Read(ref _peakConcurrency));

    /// <summary>One of the calling account's EWSMaxConcurrency connections, held until disposed; null when all are open.</summary>
    public IDisposable? EnterEws(string account) => Enter("ews\n" + account, policy.EwsMaxConcurrency);

    /// <summary>One of the app's concurrent requests to the mailbox, held until disposed; null when all are in flight.</summary>
    public IDisposable? EnterGraph(string clientId, string mailbox) => Enter($"graph\n{clientId}\n{mailbox}", policy.GraphMaxConcurrencyPerMailbox);

    /// <summary>Charges the mailbox's EWS budget; null when it paid, else how long until it can (BackOffMilliseconds).</summary>
    public TimeSpan? ChargeEws(string mailbox) => Charge("ews\n" + mailbox, policy.EwsMaxBurst.TotalMilliseconds,
        policy.EwsRechargePerHour.TotalMilliseconds / TimeSpan.FromHours(1).TotalMilliseconds, policy.EwsChargePerRequest.TotalMilliseconds);

    /// <summary>Charges one request to the app's budget for the mailbox; null when it paid, else how long until it can (Retry-After).</summary>
    public TimeSpan? ChargeGraph(string clientId, string mailbox) => Charge($"graph\n{clientId}\n{mailbox}", policy.GraphRequestsPerWindow,
        policy.GraphRequestsPerWindow / policy.GraphWindow.TotalMilliseconds, 1);

    /// <summary>Exchange at work on an admitted request of <paramref name="operation"/> (<see cref="ThrottlingPolicy.EwsServiceTimes"/>).</summary>
    public Task ServeEwsAsync(string operation, CancellationToken cancellationToken) =>
        policy.EwsServiceTimes.TryGetValue(operation, out var time) ? WorkAsync(time, cancellationToken) : Task.CompletedTask;

    /// <summary>Exchange at work on an admitted Graph request (<see cref="ThrottlingPolicy.GraphServiceTime"/>).</summary>
    public Task ServeGraphAsync(CancellationToken cancellationToken) => WorkAsync(policy.GraphServiceTime, cancellationToken);

    private Task WorkAsync(TimeSpan time, CancellationToken cancellationToken) =>
        time > TimeSpan.Zero ? Task.Delay(time, clock, cancellationToken) : Task.CompletedTask;

    private Slot? Enter(string key, int limit)
    {
        var open = _open.GetOrAdd(key, _ => new StrongBox<int>());
        var opened = Interlocked.Increment(ref open.Value);
        if (opened <= limit)
        {
            RecordPeak(opened);
            return new Slot(this, open, clock.GetUtcNow());
        }
        Interlocked.Decrement(ref open.Value);
        Interlocked.Increment(ref _refusedForConcurrency);
        return null;
    }

    private void RecordPeak(int opened)
    {
        var peak = Volatile.Read(ref _peakConcurrency);
        while (opened > peak && Interlocked.CompareExchange(ref _peakConcurrency, opened, peak) is var seen && seen != peak) peak = seen;
    }

    private TimeSpan? Charge(string key, double capacity, double refillPerMs, double cost)
    {
        var budget = _budgets.GetOrAdd(key, _ => new Budget(capacity, clock.GetUtcNow()));
        var now = clock.GetUtcNow();
        lock (budget)
        {
            budget.Balance = Math.Min(capacity, budget.Balance + (now - budget.At).TotalMilliseconds * refillPerMs);
            budget.At = now;
            if (budget.Balance >= cost)
            {
                budget.Balance -= cost;
                Interlocked.Increment(ref _admitted);
                return null;
            }
            Interlocked.Increment(ref _refusedForBudget);
            return TimeSpan.FromMilliseconds(Math.Ceiling((cost - budget.Balance) / refillPerMs));
        }
    }

    private sealed class Budget(double balance, DateTimeOffset at)
    {
        public double Balance = balance;
        public DateTimeOffset At = at;
    }

    private sealed class Slot(ExchangeThrottle throttle, StrongBox<int> open, DateTimeOffset since) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 1) return;
            Interlocked.Decrement(ref open.Value);
            Interlocked.Add(ref throttle._busyTicks, (throttle.Now - since).Ticks);
        }
    }

    private DateTimeOffset Now => clock.GetUtcNow();
}
