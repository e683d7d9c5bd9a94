using System.Text;

namespace ExchangeBridge.Client.Tests.Infrastructure;

/// <summary>A row that should end bound: where it is in the file and the binding it makes.</summary>
public sealed record GoodRow(int Line, string ExchangeAccount, string UserId)
{
    public string ExchangeBindingId => Ids.Binding(ServerProcess.DemoAdminAccount, ExchangeAccount);
}

/// <summary>
/// A row that must not be bound: where it is and why. <see cref="ExchangeAccount"/> is set when the row names a
/// well-formed address, so the test can check that the address was not bound; <see cref="ServerCode"/> when the row
/// is well-formed and only the server can refuse it.
/// </summary>
public sealed record BadRow(int Line, string Kind, string? ExchangeAccount, int? ServerCode = null);

/// <summary>The documented binding id: standard base64 of the normalised <c>admin_account + " " + exchange_account</c>.</summary>
public static class Ids
{
    public static string Binding(string adminAccount, string exchangeAccount) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(adminAccount.Trim().ToLowerInvariant() + " " + exchangeAccount.Trim().ToLowerInvariant()));
}

/// <summary>
/// A mapping file as an operator might hand one over: mostly good rows (some naming the admin account themselves, some
/// with spaces or capitals around their address), a blank line, and now and then a bad row of each kind exbridge must
/// catch before sending (malformed CSV, wrong field counts, addresses that are not addresses, an empty user id,
/// duplicated Exchange accounts or users) or that the server refuses (an unknown user, an unknown admin account).
/// </summary>
public sealed class MappingCsv
{
    private const int BadEvery = 40;
    private const string Domain = "contoso.example";

    private static readonly string[] Kinds =
    [
        "extra field", "text after a closing quote", "quote in an unquoted field", "not an email", "empty user_id",
        "admin_account not an email", "duplicate exchange_account", "duplicate user_id", "line break inside an address",
        "missing fields", "unknown user", "unknown admin account",
    ];

    private readonly StringBuilder _text = new("exchange_account,user_id,admin_account\n");
    private readonly List<GoodRow> _good = [];
    private readonly List<BadRow> _bad = [];
    private readonly List<string> _users = [];
    private int _line = 1;

    private MappingCsv(string prefix) => Prefix = prefix;

    public string Prefix { get; }
    public IReadOnlyList<GoodRow> Good => _good;
    public IReadOnlyList<BadRow> Bad => _bad;

    /// <summary>Refused by exbridge before anything is sent.</summary>
    public IEnumerable<BadRow> Invalid => _bad.Where(b => b.ServerCode is null);

    /// <summary>Sent, and refused by the server.</summary>
    public IEnumerable<BadRow> Refused => _bad.Where(b => b.ServerCode is not null);

    /// <summary>The users the rows name that exist in the tenant (create them before binding).</summary>
    public IReadOnlyList<string> Users => _users;

    public string Text => _text.ToString();

    /// <param name="prefix">Makes this file's addresses and user ids its own, so tests on one server do not meet.</param>
    /// <param name="rows">Data rows (records, not physical lines).</param>
    /// <param name="badRows">Put a bad row among every forty; without, every row is good.</param>
    public static MappingCsv Generate(string prefix, int rows, bool badRows = true)
    {
        var csv = new MappingCsv(prefix);
        var kind = 0;
        for (var i = 0; i < rows; i++)
        {
            if (i == rows / 2) csv.Raw("", lines: 1); // a blank line: not a row, but it moves the line numbers on
            if (badRows && i % BadEvery == BadEvery / 2 && i + 1 < rows)
                i += csv.AddBad(Kinds[kind++ % Kinds.Length], i) - 1;
            else
                csv.AddGood(i);
        }
        return csv;
    }

    public async Task<string> WriteAsync(string folder)
    {
        var path = Path.Combine(folder, Prefix + ".csv");
        await File.WriteAllTextAsync(path, Text);
        return path;
    }

    private string Account(int i) => $"{Prefix}-{i:0000}@{Domain}";
    private string User(int i) => $"{Prefix}-{i:0000}";

    private void AddGood(int i)
    {
        var account = Account(i);
        var user = NewUser(User(i));
        var line = (i % 10) switch
        {
            3 => $"{account},{user},{ServerProcess.DemoAdminAccount.ToUpperInvariant()}", // its own admin account, spelt otherwise
            7 => $"\" {account.ToUpperInvariant()} \",{user},",                          // quoted, padded, capitalised
            _ => $"{account},{user},",
        };
        _good.Add(new GoodRow(Raw(line), account, user));
    }

    /// <summary>Writes one bad row (two for a duplicate pair) and answers how many rows it took.</summary>
    private int AddBad(string kind, int i)
    {
        var account = Account(i);
        var user = NewUser(User(i));
        switch (kind)
        {
            case "extra field":
                AddBadRow(kind, $"{account},{user},,surplus", account);
                return 1;
            case "text after a closing quote":
                AddBadRow(kind, $"\"{account}\"x,{user},", account);
                return 1;
            case "quote in an unquoted field":
                AddBadRow(kind, $"{Prefix}\"{i}@{Domain},{user},", null);
                return 1;
            case "not an email":
                AddBadRow(kind, $"{Prefix}-{i}-at-{Domain},{user},", null);
                return 1;
            case "empty user_id":
                AddBadRow(kind, $"{account},,", account);
                return 1;
            case "admin_account not an email":
                AddBadRow(kind, $"{account},{user},admin-at-{Domain}", account);
                return 1;
            case "duplicate exchange_account":
                // The same mailbox, spelt in capitals, for two users: neither row is bound.
                AddBadRow(kind, $"{account},{user},", account);
                AddBadRow(kind, $"{account.ToUpperInvariant()},{NewUser(User(i + 1))},", account);
                return 2;
            case "duplicate user_id":
                AddBadRow(kind, $"{account},{user},", account);
                AddBadRow(kind, $"{Account(i + 1)},{user},", Account(i + 1));
                return 2;
            case "line break inside an address":
                _bad.Add(new BadRow(Raw($"\"{Prefix}-{i}\n@{Domain}\",{user},", lines: 2), kind, null));
                return 1;
            case "missing fields":
                AddBadRow(kind, account, account);
                return 1;
            case "unknown user":
                _users.Remove(user);
                _bad.Add(new BadRow(Raw($"{account},{user},"), kind, account, ServerCode: 195100));
                return 1;
            case "unknown admin account":
                _bad.Add(new BadRow(Raw($"{account},{user},nobody@{Domain}"), kind, account, ServerCode: 195106));
                return 1;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private void AddBadRow(string kind, string line, string? account) => _bad.Add(new BadRow(Raw(line), kind, account));

    private string NewUser(string user)
    {
        _users.Add(user);
        return user;
    }

    /// <summary>Appends a record and answers the line it starts on.</summary>
    private int Raw(string text, int lines = 1)
    {
        _text.Append(text).Append('\n');
        var start = _line + 1;
        _line += lines;
        return start;
    }
}
