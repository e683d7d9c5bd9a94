using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Hosting;

public sealed class HealthTests
{
    [Fact]
    public async Task Liveness_answers_GET_and_HEAD()
    {
        await using var server = new TestServer(demo: false);
        var get = await server.SendAsync(HttpMethod.Get, "/healthz");
        Assert.Equal(200, (int)get.StatusCode);
        Assert.Equal("ok", await get.Content.ReadAsStringAsync());

        var head = await server.SendAsync(HttpMethod.Head, "/healthz");
        Assert.Equal(200, (int)head.StatusCode);
    }
}
