namespace ExchangeBridge.Bench;

/// <summary>A binding as the fair share sees it: when it was created, the events it imports, and the most events a
/// second it could import alone.</summary>
public readonly record struct FairShareJob(double CreatedSeconds, double Events, double MaxEventsPerSecond);

/// <summary>
/// Each binding's fair share, for issue 19's "no binding waits more than twice its fair share": the time from its create
/// to done it would have taken under ideal processor sharing of the throughput the run achieved. The bindings are
/// replayed from their create times; at every moment the jobs not yet done share the run's events/s equally, except
/// that a job never gets more than it could use alone (its cap), and what a capped job cannot use goes to the others
/// (water-filling). Comparing a binding's actual create→done with this judges how long it waited behind the others,
/// not how large it is: slowest ÷ median compares a mailbox of 10,000 items with one of 300.
/// </summary>
public static class FairShare
{
    /// <summary>Each job's ideal seconds from its create to done, in the order given.</summary>
    public static double[] IdealDurations(IReadOnlyList<FairShareJob> jobs, double eventsPerSecond)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eventsPerSecond);
        if (jobs.Any(j => j.MaxEventsPerSecond <= 0)) throw new ArgumentException("every job can import something a second", nameof(jobs));
        var arrivals = Enumerable.Range(0, jobs.Count).OrderBy(i => jobs[i].CreatedSeconds).ToArray();
        var remaining = jobs.Select(j => j.Events).ToArray();
        var durations = new double[jobs.Count];
        var active = new List<int>();
        var now = arrivals.Length == 0 ? 0 : jobs[arrivals[0]].CreatedSeconds;
        var nextArrival = 0;
        while (nextArrival < arrivals.Length || active.Count > 0)
        {
            while (nextArrival < arrivals.Length && jobs[arrivals[nextArrival]].CreatedSeconds <= now)
            {
                var arriving = arrivals[nextArrival++];
                // A job with nothing to import is done as it is created.
                if (remaining[arriving] > 0) active.Add(arriving);
            }
            if (active.Count == 0)
            {
                if (nextArrival == arrivals.Length) break;
                now = jobs[arrivals[nextArrival]].CreatedSeconds;
                continue;
            }
            var rates = Shares(active, jobs, eventsPerSecond);
            // Until the next create or the next job done, whichever comes first, the shares hold.
            var step = nextArrival < arrivals.Length ? jobs[arrivals[nextArrival]].CreatedSeconds - now : double.PositiveInfinity;
            for (var k = 0; k < active.Count; k++) step = Math.Min(step, remaining[active[k]] / rates[k]);
            now += step;
            for (var k = active.Count - 1; k >= 0; k--)
            {
                var job = active[k];
                remaining[job] -= rates[k] * step;
                // Relative tolerance: a job whose step this was must end here, whatever the rounding left over.
                if (remaining[job] > jobs[job].Events * 1e-9) continue;
                durations[job] = now - jobs[job].CreatedSeconds;
                active.RemoveAt(k);
            }
        }
        return durations;
    }

    /// <summary>Water-filling: the jobs with the smallest caps take their cap while it is below an equal share of what is
    /// left, and the rest share the remainder equally.</summary>
    private static double[] Shares(List<int> active, IReadOnlyList<FairShareJob> jobs, double eventsPerSecond)
    {
        var rates = new double[active.Count];
        var byCap = Enumerable.Range(0, active.Count).OrderBy(k => jobs[active[k]].MaxEventsPerSecond).ToArray();
        var left = eventsPerSecond;
        for (var n = 0; n < byCap.Length; n++)
        {
            var equal = left / (byCap.Length - n);
            var rate = Math.Min(jobs[active[byCap[n]]].MaxEventsPerSecond, equal);
            rates[byCap[n]] = rate;
            left -= rate;
        }
        return rates;
    }

    /// <summary>Actual ÷ ideal for each job (a job done at once, ideal 0, counts as 1).</summary>
    public static double[] Ratios(IReadOnlyList<double> actualDurations, IReadOnlyList<double> idealDurations)
    {
        ArgumentNullException.ThrowIfNull(actualDurations);
        ArgumentNullException.ThrowIfNull(idealDurations);
        return [.. actualDurations.Select((actual, i) => idealDurations[i] > 0 ? actual / idealDurations[i] : 1)];
    }
}
