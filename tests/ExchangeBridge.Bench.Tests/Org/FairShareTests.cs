using ExchangeBridge.Bench;

namespace ExchangeBridge.Bench.Tests.Org;

/// <summary>The organisation benchmark's fair share: ideal processor sharing of the run's events/s, worked by hand.</summary>
public sealed class FairShareTests
{
    private const double Unlimited = double.PositiveInfinity;

    [Fact]
    public void Jobs_created_together_share_the_rate_equally_and_a_small_one_leaves_its_share_to_the_rest_when_done()
    {
        // 10 events a second between two: 5 each; the small one is done at 2 s, the large one then has 20 left alone.
        var ideal = FairShare.IdealDurations([new(0, 10, Unlimited), new(0, 30, Unlimited)], eventsPerSecond: 10);
        Assert.Equal([2, 4], ideal, Tolerance);
    }

    [Fact]
    public void A_job_created_later_shares_from_its_create_on_and_is_judged_from_its_create()
    {
        // A alone for 1 s (10 of its 20), then 5 a second each: both done at 3 s; B took 2 s of its own.
        var ideal = FairShare.IdealDurations([new(0, 20, Unlimited), new(1, 10, Unlimited)], eventsPerSecond: 10);
        Assert.Equal([3, 2], ideal, Tolerance);
    }

    [Fact]
    public void A_job_that_cannot_use_an_equal_share_gets_its_cap_and_the_others_take_the_rest()
    {
        // A can import 2 a second alone: it gets 2, B the other 8; A is done at 5 s, B (48) has 8 left, alone at 10/s.
        var ideal = FairShare.IdealDurations([new(0, 10, 2), new(0, 48, Unlimited)], eventsPerSecond: 10);
        Assert.Equal([5, 5.8], ideal, Tolerance);
    }

    [Fact]
    public void A_job_created_after_the_others_are_done_has_the_whole_rate_and_an_empty_one_is_done_at_once()
    {
        var ideal = FairShare.IdealDurations([new(0, 10, Unlimited), new(5, 10, Unlimited), new(6, 0, Unlimited)], eventsPerSecond: 10);
        Assert.Equal([1, 1, 0], ideal, Tolerance);
    }

    [Fact]
    public void The_ratio_is_actual_over_ideal_and_a_job_ideally_done_at_once_counts_as_on_time()
    {
        Assert.Equal([2, 1, 1], FairShare.Ratios([4, 4, 0.5], [2, 4, 0]), Tolerance);
    }

    private static readonly DoubleTolerance Tolerance = new();

    private sealed class DoubleTolerance : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-9;
        public int GetHashCode(double obj) => 0;
    }
}
