using ExchangeBridge.Server.Wire;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Wire;

public sealed class LogIdTests
{
    [Fact]
    public void Has_the_platforms_shape_and_differs_each_time()
    {
        var a = LogId.New();
        var b = LogId.New();
        Assert.Matches("^[0-9]{14}[0-9A-F]{20}$", a);
        Assert.NotEqual(a, b);
        // The timestamp (formatted once a second and reused) is the current UTC second.
        var stamped = DateTime.ParseExact(b[..14], "yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);
        Assert.InRange((DateTime.UtcNow - stamped).TotalSeconds, 0, 5);
    }

    [Fact]
    public async Task Every_answer_carries_it_success_or_not()
    {
        await using var server = new TestServer(demo: false);
        foreach (var response in new[]
                 {
                     await server.SendAsync(HttpMethod.Get, "/healthz"),
                     await server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/exchange_bindings/x"),
                     await server.SendAsync(HttpMethod.Get, "/nowhere"),
                 })
        {
            var id = response.Headers.GetValues(LogId.Header).Single();
            Assert.Equal(id, response.Headers.GetValues(LogId.RequestIdHeader).Single());
        }
    }
}
