using System.Globalization;
using System.Text.RegularExpressions;

namespace ExchangeBridge.ExchangeSimulator;

/// <summary>
/// The small part of OData's $filter the Graph simulator understands: <c>and</c>, <c>or</c>, <c>not</c>, parentheses and
/// the six comparisons (eq ne lt le gt ge) of <c>type</c>, <c>subject</c>, <c>start/dateTime</c> and <c>end/dateTime</c>
/// with a quoted literal. Anything else is a <see cref="FormatException"/> (answered 400, as Graph refuses what it cannot parse).
/// </summary>
internal static partial class ODataFilter
{
    [GeneratedRegex(@"\s*(\(|\)|'(?:[^']|'')*'|[A-Za-z/]+)")]
    private static partial Regex TokenPattern();

    public static Func<SimCalendarItem, bool> Parse(string filter)
    {
        var tokens = new List<string>();
        var position = 0;
        while (position < filter.Length)
        {
            var match = TokenPattern().Match(filter, position);
            if (!match.Success || match.Index != position)
            {
                if (string.IsNullOrWhiteSpace(filter[position..])) break;
                throw new FormatException($"$filter: unexpected '{filter[position..]}'");
            }
            tokens.Add(match.Groups[1].Value);
            position += match.Length;
        }
        var index = 0;
        var predicate = Or(tokens, ref index);
        if (index != tokens.Count) throw new FormatException($"$filter: unexpected '{tokens[index]}'");
        return predicate;
    }

    private static Func<SimCalendarItem, bool> Or(List<string> tokens, ref int index)
    {
        var left = And(tokens, ref index);
        while (index < tokens.Count && tokens[index] == "or")
        {
            index++;
            var (l, r) = (left, And(tokens, ref index));
            left = i => l(i) || r(i);
        }
        return left;
    }

    private static Func<SimCalendarItem, bool> And(List<string> tokens, ref int index)
    {
        var left = Primary(tokens, ref index);
        while (index < tokens.Count && tokens[index] == "and")
        {
            index++;
            var (l, r) = (left, Primary(tokens, ref index));
            left = i => l(i) && r(i);
        }
        return left;
    }

    private static Func<SimCalendarItem, bool> Primary(List<string> tokens, ref int index)
    {
        if (index >= tokens.Count) throw new FormatException("$filter ends early");
        if (tokens[index] == "(")
        {
            index++;
            var inner = Or(tokens, ref index);
            if (index >= tokens.Count || tokens[index++] != ")") throw new FormatException("$filter: missing ')'");
            return inner;
        }
        if (tokens[index] == "not")
        {
            index++;
            var inner = Primary(tokens, ref index);
            return i => !inner(i);
        }
        if (index + 2 >= tokens.Count) throw new FormatException("$filter: incomplete comparison");
        var (property, op, literal) = (tokens[index], tokens[index + 1], tokens[index + 2]);
        index += 3;
        if (!literal.StartsWith('\'')) throw new FormatException($"$filter: '{literal}' is not a quoted literal");
        var value = literal[1..^1].Replace("''", "'");
        Func<SimCalendarItem, int> compare = property switch
        {
            "type" => i => string.CompareOrdinal(i.Recurrence is null ? "singleInstance" : "seriesMaster", value),
            "subject" => i => string.CompareOrdinal(i.Subject, value),
            "start/dateTime" => ByInstant(i => i.Start, value),
            "end/dateTime" => ByInstant(i => i.End, value),
            _ => throw new FormatException($"$filter: property '{property}' is not supported by this simulator"),
        };
        return op switch
        {
            "eq" => i => compare(i) == 0,
            "ne" => i => compare(i) != 0,
            "lt" => i => compare(i) < 0,
            "le" => i => compare(i) <= 0,
            "gt" => i => compare(i) > 0,
            "ge" => i => compare(i) >= 0,
            _ => throw new FormatException($"$filter: operator '{op}' is not supported"),
        };
    }

    private static Func<SimCalendarItem, int> ByInstant(Func<SimCalendarItem, DateTimeOffset> field, string literal)
    {
        var at = Instant(literal);
        return i => field(i).CompareTo(at);
    }

    /// <summary>A dateTime literal; the connector asks for UTC, so a literal without offset is UTC.</summary>
    private static DateTimeOffset Instant(string value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
