using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace ExchangeBridge.Client.Tests.Infrastructure;

/// <summary>One request a client sent and what came back, with when (on a monotonic clock).</summary>
public sealed record RecordedExchange(HttpMethod Method, string Path, string? Bearer, HttpStatusCode Status, string? LogId,
    string? RateLimitReset, TimeSpan SentAt, TimeSpan AnsweredAt);

/// <summary>
/// The client's transport, passing every request to the real network and remembering each exchange, so a test can
/// see which tokens went out, what the server answered and how long the client waited in between.
/// </summary>
public sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<RecordedExchange> _exchanges = new();

    public IReadOnlyList<RecordedExchange> Exchanges => _exchanges.ToList();

    public IReadOnlyList<RecordedExchange> To(string pathPrefix) =>
        Exchanges.Where(e => e.Path.StartsWith(pathPrefix, StringComparison.Ordinal)).ToList();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var sentAt = Clock.Elapsed;
        var response = await base.SendAsync(request, cancellationToken);
        _exchanges.Enqueue(new RecordedExchange(request.Method, request.RequestUri!.PathAndQuery, request.Headers.Authorization?.Parameter,
            response.StatusCode, Header(response, "X-Tt-Logid"), Header(response, "x-ogw-ratelimit-reset"), sentAt, Clock.Elapsed));
        return response;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
