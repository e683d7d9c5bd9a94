using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using ExchangeBridge.Client.Tests.Infrastructure;

namespace ExchangeBridge.Client.Tests.Client;

/// <summary>A rate-limited call waits as long as the server's reset header says, then goes through.</summary>
[Collection(RateLimitedServerCollection.Name)]
public sealed class RetryTests(RateLimitedServer fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task A_rate_limited_create_waits_out_the_reset_header_then_succeeds()
    {
        var users = Enumerable.Range(0, 3).Select(i => $"retry-{i}-{Guid.NewGuid():N}"[..24]).ToList();
        await Server.CreateUsersAsync(users);
        using var recorder = new RecordingHandler();
        var retries = new ConcurrentQueue<FeishuRetryInfo>();
        var options = Server.ClientOptions(recorder);
        // The client's own back-off would retry almost at once: only the server's header can make it wait a second.
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retrying = retries.Enqueue;
        using var client = await Server.SuperAdminClientAsync(options);

        // One create per second: of three in a row, at least one meets the limit.
        foreach (var user in users)
        {
            var binding = await client.CreateExchangeBindingAsync(
                new CreateExchangeBindingRequest(ServerProcess.DemoAdminAccount, $"{user}@contoso.example", user), UserIdType.UserId);
            Assert.Equal(ExchangeBindingStatus.Doing, binding.Status);
        }

        var creates = recorder.To("/open-apis/calendar/v4/exchange_bindings");
        var limited = creates.Where(c => c.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.Equal(users.Count, creates.Count(c => c.Status == HttpStatusCode.OK));
        // Sequential calls: the request after a 429 is its retry, sent no sooner than the header asked.
        foreach (var (refused, retry) in creates.Zip(creates.Skip(1)).Where(p => p.First.Status == HttpStatusCode.TooManyRequests))
        {
            var reset = TimeSpan.FromSeconds(double.Parse(refused.RateLimitReset!, CultureInfo.InvariantCulture));
            Assert.True(reset >= TimeSpan.FromSeconds(1), $"reset header {refused.RateLimitReset}");
            Assert.True(retry.SentAt - refused.AnsweredAt >= reset, $"retried {retry.SentAt - refused.AnsweredAt} after a 429 asking for {reset}");
        }
        Assert.Equal(limited.Count, retries.Count);
        Assert.All(retries, r => Assert.True(r is { RateLimited: true, HttpStatus: 429 } && r.Delay >= TimeSpan.FromSeconds(1), r.ToString()));
    }
}
