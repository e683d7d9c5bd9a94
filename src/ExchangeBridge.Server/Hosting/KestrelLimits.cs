using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ExchangeBridge.Server.Hosting;

/// <summary>Deliberate limits: the largest valid Open API request is a few KiB.</summary>
public static class KestrelLimits
{
    public static IWebHostBuilder UseExchangeBridgeLimits(this IWebHostBuilder web) => web.ConfigureKestrel(kestrel =>
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
        kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        kestrel.Limits.MaxRequestHeaderCount = 100;
        kestrel.Limits.MaxRequestLineSize = 16 * 1024;
        kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
        kestrel.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(2);
        // A client trickling its body (slowloris) is cut off: at least 240 bytes a second after a 5-second grace.
        kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(240, TimeSpan.FromSeconds(5));
        kestrel.Limits.MinResponseDataRate = new MinDataRate(240, TimeSpan.FromSeconds(5));
        kestrel.Limits.Http2.MaxStreamsPerConnection = 100;
    });
}
