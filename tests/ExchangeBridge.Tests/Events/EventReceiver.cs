using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ExchangeBridge.Server.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBridge.Tests.Events;

/// <summary>One request the receiver got, decrypted as an app does; <see cref="SignatureValid"/> checked as the SDKs check it.</summary>
public sealed record ReceivedEvent(JsonObject Payload, string RawBody, bool Signed, bool SignatureValid)
{
    public string? EventId => Payload["header"]?["event_id"]?.GetValue<string>();
    public string? EventType => Payload["header"]?["event_type"]?.GetValue<string>();
    public JsonObject Event => Payload["event"]!.AsObject();
}

/// <summary>
/// An app's request URL on a real Kestrel socket: it answers the URL verification challenge, decrypts and checks what it
/// is sent with the encrypt key it was given, records every request, and answers each event with what
/// <see cref="Answer"/> says (200 unless a test says otherwise).
/// </summary>
public sealed class EventReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _encryptKey;
    private readonly ConcurrentQueue<ReceivedEvent> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private EventReceiver(WebApplication app, string? encryptKey)
    {
        _app = app;
        _encryptKey = encryptKey;
    }

    public string Url { get; private set; } = "";

    /// <summary>The HTTP status each event is answered with; 200 accepts it.</summary>
    public Func<ReceivedEvent, int> Answer { get; set; } = _ => 200;

    /// <summary>When set, every event is answered 307 with this <c>Location</c> instead of <see cref="Answer"/>'s status.</summary>
    public string? RedirectTo { get; set; }

    /// <summary>Every event received (challenges not included), in arrival order, redeliveries included.</summary>
    public IReadOnlyList<ReceivedEvent> Received => _received.ToList();

    public int Challenges { get; private set; }

    public static async Task<EventReceiver> StartAsync(string? encryptKey)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new EventReceiver(app, encryptKey);
        app.MapPost("/webhook/event", receiver.HandleAsync);
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/webhook/event";
        return receiver;
    }

    private async Task<IResult> HandleAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var raw = await reader.ReadToEndAsync();
        var outer = JsonNode.Parse(raw)!.AsObject();
        var payload = outer["encrypt"] is { } encrypted && _encryptKey is not null
            ? JsonNode.Parse(EventEnvelope.Decrypt(encrypted.GetValue<string>(), _encryptKey))!.AsObject()
            : outer;
        var signed = request.Headers.ContainsKey(EventEnvelope.SignatureHeader);
        var valid = signed && _encryptKey is not null && request.Headers[EventEnvelope.SignatureHeader] == EventEnvelope.Signature(
            request.Headers[EventEnvelope.TimestampHeader]!, request.Headers[EventEnvelope.NonceHeader]!, _encryptKey, raw);
        if (payload["type"]?.GetValue<string>() == "url_verification")
        {
            Challenges++;
            return Results.Json(new { challenge = payload["challenge"]!.GetValue<string>() });
        }
        var received = new ReceivedEvent(payload, raw, signed, valid);
        var status = Answer(received);
        _received.Enqueue(received);
        _arrived.Release();
        return RedirectTo is { } location ? Results.Redirect(location, permanent: false, preserveMethod: true) : Results.StatusCode(status);
    }

    /// <summary>Waits (bounded) until <paramref name="until"/> holds for what was received.</summary>
    public async Task<IReadOnlyList<ReceivedEvent>> WaitForAsync(Func<IReadOnlyList<ReceivedEvent>, bool> until, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (!until(Received))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"received: {string.Join("\n", Received.Select(r => r.Payload.ToJsonString()))}");
            await _arrived.WaitAsync(left);
        }
        return Received;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
