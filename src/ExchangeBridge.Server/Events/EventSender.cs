using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ExchangeBridge.Server.Events;

/// <summary>One POST to an app's request URL, as the platform makes it; what came back.</summary>
public readonly record struct PushOutcome(bool Accepted, string? Failure);

/// <summary>
/// Sends to apps' request URLs: events, and the URL verification handshake made when a URL is registered. An answer
/// counts only as HTTP 200 within the timeout (<see cref="EventOptions.RequestTimeoutSeconds"/>), as on the platform.
/// </summary>
public sealed class EventSender(IHttpClientFactory clients, TimeProvider clock)
{
    public const string ClientName = "events";

    /// <summary>The most of an app's answer that is read: a challenge echo is under a hundred bytes.</summary>
    public const int MaxAnswerBytes = 64 * 1024;

    public Task<PushOutcome> PushAsync(string requestUrl, string plain, string? encryptKey, CancellationToken ct) =>
        PostAsync(requestUrl, plain, encryptKey, _ => null, ct);

    /// <summary>
    /// The platform's URL verification: <c>{"challenge","token","type":"url_verification"}</c> (encrypted when the app
    /// has an encrypt key); the URL must answer 200 with <c>{"challenge": the same}</c>. Null when it did.
    /// </summary>
    public async Task<string?> VerifyUrlAsync(string requestUrl, string verificationToken, string? encryptKey, CancellationToken ct)
    {
        var challenge = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var outcome = await PostAsync(requestUrl, EventEnvelope.Challenge(challenge, verificationToken), encryptKey, answer =>
        {
            try
            {
                using var json = JsonDocument.Parse(answer);
                return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("challenge", out var echoed) &&
                       echoed.ValueKind == JsonValueKind.String && echoed.GetString() == challenge
                    ? null
                    : "the answer did not carry the challenge back as {\"challenge\": \"…\"}";
            }
            catch (JsonException)
            {
                return "the answer is not JSON carrying the challenge back";
            }
        }, ct);
        return outcome.Failure;
    }

    private async Task<PushOutcome> PostAsync(string requestUrl, string plain, string? encryptKey, Func<string, string?> checkAnswer,
        CancellationToken ct)
    {
        var body = EventEnvelope.Body(plain, encryptKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, requestUrl) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (encryptKey is not null)
        {
            var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            request.Headers.Add(EventEnvelope.TimestampHeader, timestamp);
            request.Headers.Add(EventEnvelope.NonceHeader, nonce);
            request.Headers.Add(EventEnvelope.SignatureHeader, EventEnvelope.Signature(timestamp, nonce, encryptKey, body));
        }
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, ct);
            if (response.StatusCode != System.Net.HttpStatusCode.OK) return new(false, $"HTTP {(int)response.StatusCode}");
            var failure = checkAnswer(await response.Content.ReadAsStringAsync(ct));
            return new(failure is null, failure);
        }
        catch (HttpRequestException e)
        {
            return new(false, e.HttpRequestError == HttpRequestError.Unknown ? "the request failed" : $"the request failed: {e.HttpRequestError}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new(false, "no answer within the timeout");
        }
    }
}
