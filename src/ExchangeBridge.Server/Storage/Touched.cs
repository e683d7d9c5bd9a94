using System.Globalization;

namespace ExchangeBridge.Server.Storage;

/// <summary>The kinds of rows a write changed that an in-memory cache may hold (see <see cref="Touched"/>).</summary>
[Flags]
public enum TouchedKinds
{
    None = 0,
    /// <summary>One binding's row (its status, its removal), named by <see cref="Touched.BindingKey"/>.</summary>
    Binding = 1,
    /// <summary>A user's standing or identity (super administrator, resigned).</summary>
    Users = 2,
    /// <summary>An app (created, deleted, its secret or scopes).</summary>
    Apps = 4,
    /// <summary>Which open_id a user has for an app.</summary>
    OpenIds = 8,
    /// <summary>Tokens revoked or changed (new tokens are not a touch: no cache can hold what nobody has presented).</summary>
    Tokens = 16,
    /// <summary>An Exchange admin account's settings or verification.</summary>
    AdminAccounts = 32,
    Tenants = 64,
    OperatorKeys = 128,
    /// <summary>Anything at all: what a cache is told when it may have missed changes (another instance's, while not listening).</summary>
    Everything = Binding | Users | Apps | OpenIds | Tokens | AdminAccounts | Tenants | OperatorKeys,
}

/// <summary>
/// What a write touched, declared with the write (<see cref="IDatabase.WriteAsync{T}(Touched, WriteWork{T}, CancellationToken)"/>)
/// and announced once, after its commit, to every cache that holds such rows (<see cref="ChangeFeed"/>). A value, so
/// declaring it costs no allocation on the hot path. <see cref="Nothing"/> says so explicitly: the write changed only
/// rows no cache holds (jobs, events, codes, newly issued tokens).
/// </summary>
public readonly record struct Touched(TouchedKinds Kinds, long BindingKey = 0)
{
    public static Touched Nothing => default;

    public static Touched Binding(long bindingKey) => new(TouchedKinds.Binding, bindingKey);

    public static Touched Rows(TouchedKinds kinds) => new(kinds);

    public bool IsNothing => Kinds == TouchedKinds.None;

    /// <summary>"kinds binding-key", as sent to other instances (pg_notify's payload is text).</summary>
    public string ToPayload() => string.Create(CultureInfo.InvariantCulture, $"{(int)Kinds} {BindingKey}");

    /// <summary>A payload from <see cref="ToPayload"/>; one that does not parse is read as everything, so nothing stale survives it.</summary>
    public static Touched FromPayload(ReadOnlySpan<char> payload)
    {
        var space = payload.IndexOf(' ');
        return space > 0 &&
               int.TryParse(payload[..space], NumberStyles.None, CultureInfo.InvariantCulture, out var kinds) &&
               long.TryParse(payload[(space + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var bindingKey)
            ? new Touched((TouchedKinds)kinds, bindingKey)
            : new Touched(TouchedKinds.Everything);
    }
}
