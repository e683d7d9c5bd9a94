using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace ExchangeBridge.Server.Wire;

/// <summary>
/// The string fields an endpoint reads from a JSON object body (<see cref="JsonBody.ReadStringsAsync"/>), named once, with
/// a reader for the common body: one flat object whose fields are well formed.
/// </summary>
public sealed class JsonStringFields
{
    /// <summary>More top-level properties than this are left to the document (the names are kept on the stack).</summary>
    private const int MaxFlatProperties = 16;

    private readonly byte[][] _utf8Names;

    public JsonStringFields(params string[] names)
    {
        Names = names;
        _utf8Names = [.. names.Select(Encoding.UTF8.GetBytes)];
    }

    public IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Each named field's string (null when absent or null), in one pass of a reader, when the body is a flat object the
    /// document would read to the same values: false, with nothing read, for anything else — invalid JSON, a root that is not
    /// an object, a nested object or array (where the document would look for repeated names too), a property name escaped,
    /// not UTF-8 or repeated, a named field of another type or not valid Unicode. The document then answers, refusals
    /// included, so a body is never refused here, nor accepted where the document would refuse it.
    /// </summary>
    public bool TryReadFlat(ReadOnlySpan<byte> json, out string?[] values)
    {
        values = new string?[_utf8Names.Length];
        Span<Range> seen = stackalloc Range[MaxFlatProperties];
        var seenCount = 0;
        var reader = new Utf8JsonReader(json, isFinalBlock: true, new JsonReaderState(JsonBody.ReaderOptions));
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueIsEscaped || reader.HasValueSequence || seenCount == MaxFlatProperties) return false;
                var name = reader.ValueSpan;
                if (!Utf8.IsValid(name)) return false;
                foreach (var earlier in seen[..seenCount])
                    if (json[earlier].SequenceEqual(name)) return false;
                // The name's bytes in the body: the reader gives its span, not its offset, so it is found from the token's start.
                var start = (int)reader.TokenStartIndex + 1;
                seen[seenCount++] = new Range(start, start + name.Length);
                var field = IndexOf(name);

                if (!reader.Read()) return false;
                switch (reader.TokenType)
                {
                    case JsonTokenType.String when field >= 0:
                        values[field] = reader.GetString();
                        break;
                    case JsonTokenType.Null:
                        break;
                    case JsonTokenType.String or JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False when field < 0:
                        break;
                    default:
                        return false;
                }
            }
            // The object's end, and nothing after it.
            return reader.TokenType == JsonTokenType.EndObject && !reader.Read();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Invalid JSON (the reader's JsonException) or a named string not valid Unicode (GetString): the document's to refuse.
            return false;
        }
    }

    private int IndexOf(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < _utf8Names.Length; i++)
            if (name.SequenceEqual(_utf8Names[i])) return i;
        return -1;
    }
}
