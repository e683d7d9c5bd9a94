using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Polly;
using Polly.Retry;

namespace ExchangeBridge.Client.Pipeline;

/// <summary>One HTTP answer, read whole: status, log id, body.</summary>
internal readonly record struct RawAnswer(HttpStatusCode Status, string? LogId, byte[] Body);

/// <summary>
/// Sends one request with retries (Polly): 429 and 5xx answers and network failures are retried, a rate-limited answer
/// after the server's reset header, anything else after exponential back-off with jitter. A rate limit seen by one call
/// holds back every call of the client until it resets, so concurrent callers do not spend their retries against it.
/// </summary>
internal sealed class FeishuHttpPipeline : IDisposable
{
    public const string LogIdHeader = "X-Tt-Logid";
    public const string RateLimitResetHeader = "x-ogw-ratelimit-reset";
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;
    private readonly FeishuRetryOptions _retryOptions;
    private readonly TimeProvider _clock;
    private long _pausedUntilTicks;

    public FeishuHttpPipeline(FeishuClientOptions options, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options.BaseAddress);
        _clock = clock ?? TimeProvider.System;
        _retryOptions = options.Retry;
        _http = options.Transport is { } transport ? new HttpClient(transport, disposeHandler: false) : new HttpClient();
        _http.BaseAddress = options.BaseAddress;
        _http.Timeout = options.NetworkTimeout;
        var notify = options.Retrying;
        _retry = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _clock }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(0, options.Retry.MaxRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.Retry.Delay,
                MaxDelay = options.Retry.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context.CancellationToken)),
                DelayGenerator = args => ValueTask.FromResult(ServerDelay(args.Outcome.Result)),
                OnRetry = args =>
                {
                    notify?.Invoke(new FeishuRetryInfo(args.AttemptNumber + 1, (int?)args.Outcome.Result?.StatusCode,
                        args.Outcome.Exception, args.RetryDelay, args.Outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests));
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        if (_retryOptions.MaxRetries < 0) throw new ArgumentOutOfRangeException(nameof(options), "Retry.MaxRetries must not be negative");
    }

    public Uri BaseAddress => _http.BaseAddress!;

    public async Task<RawAnswer> SendAsync(HttpMethod method, string pathAndQuery, string? bearer, byte[]? jsonBody, CancellationToken ct)
    {
        using var response = await _retry.ExecuteAsync(static async (state, token) =>
        {
            await state.Self.WaitOutPauseAsync(token).ConfigureAwait(false);
            using var request = new HttpRequestMessage(state.Method, state.Path);
            if (state.Bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", state.Bearer);
            if (state.Body is not null) request.Content = new ByteArrayContent(state.Body) { Headers = { ContentType = Json } };
            return await state.Self._http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token).ConfigureAwait(false);
        }, (Self: this, Method: method, Path: pathAndQuery, Bearer: bearer, Body: jsonBody), ct).ConfigureAwait(false);
        var logId = response.Headers.TryGetValues(LogIdHeader, out var values) ? values.FirstOrDefault() : null;
        var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        return new RawAnswer(response.StatusCode, logId, body);
    }

    /// <summary>Sends and unwraps <c>{code, msg, data}</c>: the data on code 0, otherwise a <see cref="FeishuApiException"/>.</summary>
    public async Task<T> SendEnvelopeAsync<T>(HttpMethod method, string pathAndQuery, string? bearer, byte[]? jsonBody,
        JsonTypeInfo<Envelope<T>> answerType, CancellationToken ct)
    {
        var answer = await SendAsync(method, pathAndQuery, bearer, jsonBody, ct).ConfigureAwait(false);
        if (IsSuccess(answer.Status))
        {
            Envelope<T>? envelope = null;
            try
            {
                envelope = JsonSerializer.Deserialize(answer.Body, answerType);
            }
            catch (JsonException)
            {
                // Not the shape of a success: read it as a refusal below.
            }
            if (envelope is { Code: 0, Data: { } data }) return data;
        }
        throw Refusal(answer);
    }

    public static byte[] Serialize<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);

    /// <summary>The answer as a <see cref="FeishuApiException"/>, with whatever code, msg and log id it carries.</summary>
    public static FeishuApiException Refusal(RawAnswer answer)
    {
        EnvelopeProbe? probe = null;
        try
        {
            probe = JsonSerializer.Deserialize(answer.Body, ClientJsonContext.Default.EnvelopeProbe);
        }
        catch (JsonException)
        {
            // Not JSON: a proxy's page or the gateway's plain 404.
        }
        var logId = answer.LogId ?? probe?.Error?.LogId;
        if (probe?.Code is { } code)
            return new FeishuApiException(code, probe.Msg ?? "", logId, answer.Status);
        var text = Encoding.UTF8.GetString(answer.Body, 0, Math.Min(answer.Body.Length, 300)).Trim();
        return new FeishuApiException(FeishuApiException.NoCode,
            text.Length > 0 ? text : $"HTTP {(int)answer.Status} without a body", logId, answer.Status);
    }

    private static bool IsSuccess(HttpStatusCode status) => (int)status is >= 200 and < 300;

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, CancellationToken callerToken) => outcome switch
    {
        { Result: { } response } => response.StatusCode == HttpStatusCode.TooManyRequests
                                    || (int)response.StatusCode >= 500 && response.StatusCode is not (HttpStatusCode.NotImplemented or HttpStatusCode.HttpVersionNotSupported),
        { Exception: HttpRequestException } => true,
        // HttpClient's own timeout, not the caller giving up.
        { Exception: OperationCanceledException } => !callerToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>
    /// The wait the server asks for: <c>x-ogw-ratelimit-reset</c> (seconds, the platform's gateway) or <c>Retry-After</c>,
    /// plus up to a quarter second of jitter so waiting callers do not return in one burst; null lets the exponential
    /// back-off decide. Holds every call of this client back for as long.
    /// </summary>
    private TimeSpan? ServerDelay(HttpResponseMessage? response)
    {
        if (response is null) return null;
        TimeSpan? asked = null;
        if (response.Headers.TryGetValues(RateLimitResetHeader, out var reset)
            && double.TryParse(reset.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            asked = TimeSpan.FromSeconds(seconds);
        else if (response.Headers.RetryAfter is { } retryAfter)
            asked = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - _clock.GetUtcNow() : null);
        if (asked is not { } wait) return null;
        wait = TimeSpan.FromTicks(Math.Clamp(wait.Ticks, 0, _retryOptions.MaxDelay.Ticks))
               + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 250));
        PauseUntil(_clock.GetUtcNow() + wait);
        return wait;
    }

    private void PauseUntil(DateTimeOffset until)
    {
        var ticks = until.UtcTicks;
        var seen = Interlocked.Read(ref _pausedUntilTicks);
        while (ticks > seen)
        {
            var previous = Interlocked.CompareExchange(ref _pausedUntilTicks, ticks, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }

    private async ValueTask WaitOutPauseAsync(CancellationToken ct)
    {
        var wait = new DateTimeOffset(Interlocked.Read(ref _pausedUntilTicks), TimeSpan.Zero) - _clock.GetUtcNow();
        if (wait > TimeSpan.Zero) await Task.Delay(wait, _clock, ct).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();
}
