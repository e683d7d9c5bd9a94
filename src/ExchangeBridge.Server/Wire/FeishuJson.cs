using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace ExchangeBridge.Server.Wire;

/// <summary>The success envelope every Open API answer shares.</summary>
public sealed record Envelope<T>(int Code, string Msg, T Data);

/// <summary>The platform's "data" for an empty success (DELETE).</summary>
public sealed record EmptyData;

public static class Envelope
{
    public static Envelope<T> Success<T>(T data) => new(0, "success", data);
}

/// <summary>
/// The wire's JSON: snake_case, nulls omitted, source-generated so the hot paths do no reflection.
/// Every type that crosses the wire is listed here.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Envelope<EmptyData>))]
[JsonSerializable(typeof(Envelope<Bindings.ExchangeBindingData>))]
[JsonSerializable(typeof(Identity.TenantAccessTokenResponse))]
[JsonSerializable(typeof(Identity.AppAccessTokenResponse))]
[JsonSerializable(typeof(Envelope<Identity.OidcTokenData>))]
[JsonSerializable(typeof(Identity.OAuthTokenResponse))]
[JsonSerializable(typeof(Identity.OAuthErrorResponse))]
[JsonSerializable(typeof(Envelope<Admin.TenantView>))]
[JsonSerializable(typeof(Envelope<Admin.TenantList>))]
[JsonSerializable(typeof(Envelope<Admin.AppCreated>))]
[JsonSerializable(typeof(Envelope<Admin.AppSettingsView>))]
[JsonSerializable(typeof(Envelope<Admin.UserView>))]
[JsonSerializable(typeof(Envelope<Admin.AdminAccountView>))]
[JsonSerializable(typeof(Envelope<Admin.AuthorizationCodeView>))]
[JsonSerializable(typeof(Hosting.BootstrapFile))]
[JsonSerializable(typeof(Calendars.CalendarEvent))]
[JsonSerializable(typeof(Envelope<Calendars.CalendarListData>))]
[JsonSerializable(typeof(Envelope<Calendars.CalendarView>))]
[JsonSerializable(typeof(Envelope<Calendars.EventListData>))]
[JsonSerializable(typeof(Envelope<Calendars.EventData>))]
[JsonSerializable(typeof(Calendars.StoredEventFacts))]
[JsonSerializable(typeof(Envelope<Calendars.InstanceViewData>))]
[JsonSerializable(typeof(Envelope<Calendars.InstancesData>))]
[JsonSerializable(typeof(Envelope<Calendars.FreeBusyListData>))]
[JsonSerializable(typeof(Envelope<Calendars.FreeBusyBatchData>))]
[JsonSerializable(typeof(Envelope<Calendars.AttendeeListData>))]
[JsonSerializable(typeof(Envelope<Calendars.EventSearchData>))]
[JsonSerializable(typeof(Envelope<Admin.BindingDiagnostics>))]
[JsonSerializable(typeof(Envelope<Admin.BindingsRetried>))]
[JsonSerializable(typeof(Envelope<Events.EventSettingsView>))]
[JsonSerializable(typeof(Envelope<Events.DeliveryList>))]
public sealed partial class FeishuJsonContext : JsonSerializerContext;

/// <summary>
/// How answers are written: with the source-generated serialisers' fast path (<see cref="FeishuJsonContext.Default"/>)
/// into a writer that escapes text as the platform does, only where JSON requires it. The default encoder wrote a
/// base64 id's '+' as \u002B and every Chinese character as \uXXXX (characters beyond the Basic Multilingual Plane,
/// such as emoji, still go out as \u surrogate pairs: the relaxed encoder escapes those too); options with another encoder would also turn the
/// fast path off (it is kept only for options equal to the generated ones), so the encoder goes on the writer instead.
/// The relaxed encoder is "unsafe" only for text pasted into HTML, which these application/json answers never are.
/// </summary>
public static class FeishuJson
{
    public const string ContentType = "application/json; charset=utf-8";

    public static JsonSerializerOptions Options => FeishuJsonContext.Default.Options;

    /// <summary>Options for a hand-written answer (<see cref="Utf8JsonWriter"/>): text escaped as in every other answer.</summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private const int MaxKeptBuffer = 64 * 1024;

    [ThreadStatic] private static PooledBufferWriter? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>An answer's bytes; the buffer and writer are reused on the thread, only the result is allocated.</summary>
    public static byte[] Serialize<T>(T value, JsonTypeInfo<T> type)
    {
        var buffer = SerializeOnThread(value, type);
        var json = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > MaxKeptBuffer) Release(buffer);
        return json;
    }

    /// <summary>An endpoint's JSON answer (minimal APIs' result), written as <see cref="WriteAsync{T}"/> writes.</summary>
    public static FeishuJsonResult<T> Result<T>(T value, JsonTypeInfo<T> type, int statusCode = StatusCodes.Status200OK) =>
        new(value, type, statusCode);

    /// <summary>
    /// An answer, serialised whole so it goes out with its length rather than chunked. A small one is copied out of the
    /// thread's buffer; a large one goes out from the pooled buffer it was written into, which leaves the thread for the
    /// write (the write may finish later while the thread serves another request) and then goes back to the pool.
    /// </summary>
    public static Task WriteAsync<T>(HttpResponse response, T answer, JsonTypeInfo<T> type, CancellationToken ct)
    {
        var buffer = SerializeOnThread(answer, type);
        if (buffer.Capacity <= MaxKeptBuffer) return WriteAsync(response, buffer.WrittenSpan.ToArray(), ct);
        (t_buffer, t_writer) = (null, null);
        return WriteAndReleaseAsync(response, buffer, ct);
    }

    private static async Task WriteAndReleaseAsync(HttpResponse response, PooledBufferWriter buffer, CancellationToken ct)
    {
        try
        {
            response.ContentType = ContentType;
            response.ContentLength = buffer.WrittenCount;
            await response.Body.WriteAsync(buffer.WrittenMemory, ct);
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <summary>The value serialised into this thread's buffer, valid until the thread's next answer.</summary>
    private static PooledBufferWriter SerializeOnThread<T>(T value, JsonTypeInfo<T> type)
    {
        var buffer = t_buffer ??= new PooledBufferWriter(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, value, type);
        writer.Flush();
        return buffer;
    }

    /// <summary>A buffer grown past what a thread keeps (a rare large answer) goes back to the pool.</summary>
    private static void Release(PooledBufferWriter buffer)
    {
        (t_buffer, t_writer) = (null, null);
        buffer.Dispose();
    }

    /// <summary>An answer already serialised (a cached one), with its length so it needs no chunking.</summary>
    public static Task WriteAsync(HttpResponse response, byte[] json, CancellationToken ct)
    {
        response.ContentType = ContentType;
        response.ContentLength = json.Length;
        return response.Body.WriteAsync(json, ct).AsTask();
    }
}

/// <summary>A JSON answer with its status, written by <see cref="FeishuJson"/>.</summary>
public sealed class FeishuJsonResult<T>(T value, JsonTypeInfo<T> type, int statusCode)
    : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<T>, IContentTypeHttpResult
{
    public T Value => value;
    object? IValueHttpResult.Value => value;
    public int? StatusCode => statusCode;
    public string ContentType => FeishuJson.ContentType;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        return FeishuJson.WriteAsync(httpContext.Response, value, type, httpContext.RequestAborted);
    }
}
