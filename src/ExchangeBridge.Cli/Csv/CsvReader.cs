using System.Text;

namespace ExchangeBridge.Cli.Csv;

/// <summary>One record of a CSV file: the line it starts on (1-based), its fields, or why it could not be read.</summary>
internal sealed record CsvRecord(int Line, IReadOnlyList<string> Fields, string? Error);

/// <summary>
/// RFC 4180 CSV: comma-separated, fields optionally in double quotes (a quote inside doubled, commas and line breaks
/// allowed inside), CRLF or LF. A record that breaks the rules is returned with its error, and reading goes on at the
/// next line, so every bad row can be reported. Blank lines are skipped.
/// </summary>
internal static class CsvReader
{
    public static IEnumerable<CsvRecord> Read(TextReader reader)
    {
        var line = 1;
        var fields = new List<string>();
        var field = new StringBuilder();
        while (reader.Peek() >= 0)
        {
            var start = line;
            fields.Clear();
            string? error = null;
            var atRecordEnd = false;
            var sawAnything = false;
            while (!atRecordEnd)
            {
                field.Clear();
                var c = reader.Read();
                if (c == '"')
                {
                    sawAnything = true;
                    // Quoted field: up to the closing quote, "" meaning one quote.
                    while (true)
                    {
                        c = reader.Read();
                        if (c < 0)
                        {
                            error = "a quoted field is not closed";
                            atRecordEnd = true;
                            break;
                        }
                        if (c == '\n') line++;
                        if (c != '"')
                        {
                            field.Append((char)c);
                            continue;
                        }
                        if (reader.Peek() == '"')
                        {
                            reader.Read();
                            field.Append('"');
                            continue;
                        }
                        break;
                    }
                    if (error is not null) break;
                    c = reader.Read();
                    if (c is not (',' or '\n' or '\r' or -1))
                    {
                        error = "text after a closing quote (a quote inside a quoted field must be doubled)";
                        line += SkipRestOfLine(reader);
                        atRecordEnd = true;
                        break;
                    }
                }
                else
                {
                    while (c is not (',' or '\n' or '\r' or -1))
                    {
                        if (!char.IsWhiteSpace((char)c)) sawAnything = true;
                        if (c == '"')
                        {
                            error = "a quote inside an unquoted field (quote the whole field and double the quote)";
                        }
                        field.Append((char)c);
                        c = reader.Read();
                    }
                }
                fields.Add(field.ToString());
                if (c == ',')
                {
                    sawAnything = true;
                    continue;
                }
                if (c == '\r' && reader.Peek() == '\n') reader.Read();
                if (c is '\r' or '\n') line++;
                atRecordEnd = true;
            }
            if (!sawAnything && error is null && fields.Count == 1) continue;
            yield return new CsvRecord(start, fields.ToList(), error);
        }
    }

    private static int SkipRestOfLine(TextReader reader)
    {
        while (true)
        {
            var c = reader.Read();
            if (c < 0) return 0;
            if (c == '\n') return 1;
            if (c == '\r')
            {
                if (reader.Peek() == '\n') reader.Read();
                return 1;
            }
        }
    }
}

/// <summary>Writes CSV fields, quoting those that need it.</summary>
internal static class CsvWriter
{
    public static string Line(params string?[] fields) => string.Join(',', fields.Select(Escape));

    public static string Escape(string? value)
    {
        value ??= "";
        var needsQuotes = value.AsSpan().IndexOfAny(",\"\r\n") >= 0 || value.Length > 0 && (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]));
        return needsQuotes ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
