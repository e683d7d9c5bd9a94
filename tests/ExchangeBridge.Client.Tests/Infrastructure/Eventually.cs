namespace ExchangeBridge.Client.Tests.Infrastructure;

/// <summary>Waiting for something to become true: polled, with a generous limit that only guards against a hang.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited in vain for {what}");
            await Task.Delay(20);
        }
    }
}
