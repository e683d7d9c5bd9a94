using System.Globalization;
using System.Text.Json;

namespace ExchangeBridge.Server.Console;

/// <summary>
/// The live view: server-sent events carrying each shown binding's status and sync whenever they change, so the
/// bindings page and a binding's page follow the import without reloading. The stream reads the shown bindings
/// (a page, at most <see cref="MaxKeys"/>) once a second: one indexed query, on whichever instance serves the page, seeing
/// every instance's writes. An event per changed binding; <c>gone</c> when one was unbound.
/// </summary>
public static class ConsoleLive
{
    public const int MaxKeys = ConsoleStore.PageSize;
    private static readonly TimeSpan ReadEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan KeepAliveEvery = TimeSpan.FromSeconds(15);

    /// <summary><c>GET /console/live?tenant=…&amp;keys=1,2,3</c></summary>
    public static async Task StreamAsync(HttpContext context, string? tenant, string? keys, ConsoleStore store, IHostApplicationLifetime lifetime)
    {
        if (string.IsNullOrEmpty(tenant) || string.IsNullOrEmpty(keys))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        var wanted = keys.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => long.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out var key) ? key : -1)
            .Where(k => k > 0).Distinct().Take(MaxKeys).ToList();
        context.Response.ContentType = "text/event-stream";
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var ct = stop.Token;
        var sent = new Dictionary<long, string>();
        var gone = new HashSet<long>();
        var lastWrite = DateTime.UtcNow;
        // The poll period is a refresh cadence of the page, not domain time: real time, whatever the server's clock.
        using var timer = new PeriodicTimer(ReadEvery);
        try
        {
            await context.Response.WriteAsync(": live\n\n", ct);
            await context.Response.Body.FlushAsync(ct);
            do
            {
                var rows = await store.RowsAsync(tenant, wanted, ct);
                var events = new System.Text.StringBuilder();
                foreach (var row in rows)
                {
                    var data = Describe(row);
                    if (sent.TryGetValue(row.Id, out var before) && before == data) continue;
                    sent[row.Id] = data;
                    events.Append("event: binding\ndata: ").Append(data).Append("\n\n");
                }
                foreach (var key in wanted)
                    if (rows.All(r => r.Id != key) && gone.Add(key))
                        events.Append("event: gone\ndata: ").Append(key.ToString(CultureInfo.InvariantCulture)).Append("\n\n");
                if (events.Length == 0 && DateTime.UtcNow - lastWrite > KeepAliveEvery) events.Append(": keep-alive\n\n");
                if (events.Length == 0) continue;
                await context.Response.WriteAsync(events.ToString(), ct);
                await context.Response.Body.FlushAsync(ct);
                lastWrite = DateTime.UtcNow;
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The page was closed, or the server is stopping: the stream simply ends.
        }
    }

    /// <summary>A binding's live fields, by the names the pages mark their cells with (<c>data-field</c>).</summary>
    public static string Describe(ConsoleBindingRow row)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("key", row.Id);
            json.WriteString("status", row.Status);
            json.WriteString("status_text", ConsoleText.Status(row));
            json.WriteString("why", ConsoleText.Why(row));
            json.WriteString("last_synced", ConsoleText.Time(row.LastSyncedAt));
            json.WriteString("next_attempt", ConsoleText.NextAttempt(row));
            json.WriteNumber("attempts", row.Attempts);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
