namespace ExchangeBridge.Core.Exchange;

/// <summary>
/// How a connector honours the wait a throttled answer names (EWS BackOffMilliseconds, Graph Retry-After): a short one
/// is waited out in place and the refused request sent again, so the attempt keeps its place; once the waits of one
/// request would pass <see cref="InPlaceBudget"/> (or the answer names no wait), the failure goes up as throttled and
/// the job queue waits the rest without holding a worker. Retrying the whole attempt at the hint instead spends the
/// budget that came back on the attempt's first requests (the folder listing), and is refused again at the same step
/// whenever the hint is the time until one more request can be paid for, as a budget's is: such an attempt never gets
/// further than where it was refused.
/// </summary>
public static class ThrottledRetry
{
    /// <summary>The longest one request waits in place, in all; well inside a job's lease.</summary>
    public static readonly TimeSpan InPlaceBudget = TimeSpan.FromSeconds(10);

    /// <summary>A hint of zero is counted as this much, so that a server answering "now" again and again ends the waiting.</summary>
    private static readonly TimeSpan ShortestWait = TimeSpan.FromMilliseconds(100);

    public static async Task<T> RunAsync<T>(Func<Task<T>> send, CancellationToken cancellationToken)
    {
        var waited = TimeSpan.Zero;
        while (true)
        {
            try
            {
                return await send();
            }
            catch (ExchangeConnectorException e) when (e.Kind == ExchangeFailureKind.Throttled && e.RetryAfter is { } hint &&
                                                       waited + (hint < ShortestWait ? ShortestWait : hint) <= InPlaceBudget)
            {
                var wait = hint < ShortestWait ? ShortestWait : hint;
                await Task.Delay(wait, cancellationToken);
                waited += wait;
            }
        }
    }
}
