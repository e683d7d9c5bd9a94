using System.Net.Http.Headers;
using System.Text.Json;
using ExchangeBridge.Core.Errors;

namespace ExchangeBridge.Server.Wire;

/// <summary>
/// Reads a JSON object body strictly and cheaply: bounded size, UTF-8 only, no duplicate keys, and every field
/// read with its expected type, so each malformed input is answered with 190002 and a msg naming the problem.
/// </summary>
public static class JsonBody
{
    /// <summary>Largest body an Open API call accepts; the biggest valid one is well under 4 KiB.</summary>
    public const int MaxBytes = 64 * 1024;

    private static readonly JsonDocumentOptions ParseOptions = new()
    {
        MaxDepth = 16,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowDuplicateProperties = false,
    };

    /// <summary>The same rules for a reader (duplicate names are the reader's caller's to find).</summary>
    internal static readonly JsonReaderOptions ReaderOptions = new()
    {
        MaxDepth = ParseOptions.MaxDepth,
        AllowTrailingCommas = ParseOptions.AllowTrailingCommas,
        CommentHandling = ParseOptions.CommentHandling,
    };

    /// <summary>Reads the body as a JSON object and hands it to <paramref name="read"/>, which takes what it needs.</summary>
    public static async Task<T> ReadObjectAsync<T>(HttpRequest request, FeishuError invalid,
        Func<JsonElement, T> read, CancellationToken cancellationToken)
    {
        using var body = await ReadPooledAsync(request, invalid, cancellationToken);
        return ReadDocument(body.WrittenMemory, invalid, read);
    }

    /// <summary>
    /// The body's named string fields, as <see cref="ReadObjectAsync{T}"/> and <see cref="OptionalString"/> read them, with
    /// the same refusals. A flat object of well-formed fields (the token endpoints' bodies) is read in one pass with no
    /// document (<see cref="JsonStringFields.TryReadFlat"/>); anything else, every refusal included, by the document.
    /// </summary>
    public static async Task<string?[]> ReadStringsAsync(HttpRequest request, FeishuError invalid, JsonStringFields fields,
        CancellationToken cancellationToken)
    {
        using var body = await ReadPooledAsync(request, invalid, cancellationToken);
        return fields.TryReadFlat(body.WrittenSpan, out var values) ? values
            : ReadDocument(body.WrittenMemory, invalid, document => fields.Names.Select(name => OptionalString(document, name, invalid)).ToArray());
    }

    /// <summary>The body's bytes in a pooled buffer the caller disposes; the endpoint's own refusal for a body too large, empty or cut off.</summary>
    private static async Task<PooledBufferWriter> ReadPooledAsync(HttpRequest request, FeishuError invalid, CancellationToken cancellationToken)
    {
        EnsureJsonContentType(request, invalid);
        if (request.ContentLength > MaxBytes) throw new FeishuException(invalid, "request body too large");

        var body = new PooledBufferWriter(4096);
        try
        {
            while (true)
            {
                int count;
                try
                {
                    count = await request.Body.ReadAsync(body.GetMemory(), cancellationToken);
                }
                catch (BadHttpRequestException e)
                {
                    // Kestrel stopped the body (too slow, cut short, over its limit): this endpoint's own refusal.
                    throw new FeishuException(invalid, WireErrors.BodyRefusal(e));
                }
                if (count == 0) break;
                body.Advance(count);
                if (body.WrittenCount > MaxBytes) throw new FeishuException(invalid, "request body too large");
            }
            if (body.WrittenCount == 0) throw new FeishuException(invalid, "request body is empty");
            return body;
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    private static T ReadDocument<T>(ReadOnlyMemory<byte> json, FeishuError invalid, Func<JsonElement, T> read)
    {
        JsonDocument document;
        try
        {
            // The document reads straight from the pooled buffer, so it must not outlive its reader.
            document = JsonDocument.Parse(json, ParseOptions);
        }
        catch (JsonException)
        {
            throw new FeishuException(invalid, "request body is not valid JSON");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new FeishuException(invalid, "request body must be a JSON object");
            return read(document.RootElement);
        }
    }

    /// <summary>A string field: absent or null gives null; any other type is refused.</summary>
    public static string? OptionalString(JsonElement body, string name, FeishuError invalid)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw new FeishuException(invalid, $"{name} must be a string");
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            throw new FeishuException(invalid, $"{name} is not valid Unicode");
        }
    }

    public static string RequiredString(JsonElement body, string name, FeishuError invalid) =>
        OptionalString(body, name, invalid) is { Length: > 0 } value
            ? value
            : throw new FeishuException(invalid, $"{name} is required");

    /// <summary>A boolean field: absent or null gives <paramref name="absent"/>; any other type is refused.</summary>
    public static bool OptionalBool(JsonElement body, string name, bool absent, FeishuError invalid)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return absent;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FeishuException(invalid, $"{name} must be a boolean"),
        };
    }

    /// <summary>An array of strings: absent or null gives an empty list; any other type, or an element not a string, is refused.</summary>
    public static IReadOnlyList<string> OptionalStringArray(JsonElement body, string name, FeishuError invalid)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return [];
        if (value.ValueKind != JsonValueKind.Array) throw new FeishuException(invalid, $"{name} must be an array of strings");
        var items = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw new FeishuException(invalid, $"{name} must be an array of strings");
            try
            {
                items.Add(item.GetString()!);
            }
            catch (InvalidOperationException)
            {
                throw new FeishuException(invalid, $"{name} is not valid Unicode");
            }
        }
        return items;
    }

    private static void EnsureJsonContentType(HttpRequest request, FeishuError invalid)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrEmpty(contentType)) return; // A client that sends no Content-Type (a raw socket, some scripts): read it as JSON.
        // What every SDK sends, accepted without parsing the header.
        if (contentType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
            contentType.Equals("application/json; charset=utf-8", StringComparison.OrdinalIgnoreCase)) return;
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed))
            throw new FeishuException(invalid, "Content-Type is malformed");
        var media = parsed.MediaType ?? "";
        var isJson = media.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
                     media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
        if (!isJson) throw new FeishuException(invalid, "Content-Type must be application/json");
        if (parsed.CharSet is { Length: > 0 } charset &&
            !charset.Trim('"').Equals("utf-8", StringComparison.OrdinalIgnoreCase) &&
            !charset.Trim('"').Equals("utf8", StringComparison.OrdinalIgnoreCase))
            throw new FeishuException(invalid, "request body must be UTF-8");
    }
}
