using System.Collections.Concurrent;
using ExchangeBridge.Core.Identity;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// The answers to "GET a binding", kept in memory so a repeated read costs no database round trip and no
/// serialisation. Only the process that owns the SQLite data folder can know every write, so the cache is on for
/// SQLite and off for PostgreSQL, where other instances write what this one cannot see.
/// </summary>
/// <remarks>
/// It forgets what committed writes touched (<see cref="ICommitListener"/>): a binding's row, or the apps and open_ids
/// every answer may carry. A read notes <see cref="WritesSoFar"/> before it goes to the
/// database and <see cref="Keep"/> refuses its answer if any write was forgotten meanwhile: the read may have seen the
/// row before that write, and nothing would remove it afterwards.
/// </remarks>
public sealed class BindingReadCache(bool enabled) : ICommitListener
{
    /// <summary>Beyond this many answers (about 0.6 KB each with their keys: ~60 MB) the cache starts again empty.</summary>
    public const int MaxAnswers = 100_000;

    /// <summary>An answer depends on the tenant, the binding, the calling app (open_ids are per app) and the id type asked for.</summary>
    public readonly record struct Key(string TenantKey, string AppId, string ExchangeBindingId, UserIdType IdType);

    private readonly ConcurrentDictionary<Key, byte[]> _answers = new();
    // Which answers each binding (by its internal key) has in the cache; read and written under _gate only.
    private readonly Dictionary<long, List<Key>> _keysByBinding = new();
    private readonly Lock _gate = new();
    private long _writes;

    /// <summary>
    /// On only for a SQLite database whose ownership lock holds: then every write is this process's own. Subscribed to
    /// the database's commits.
    /// </summary>
    public static BindingReadCache For(IDatabase database)
    {
        var cache = new BindingReadCache(database is SqliteDatabase { OwnsDatabaseAlone: true });
        database.Changes.Subscribe(cache);
        return cache;
    }

    public TouchedKinds Holds => enabled ? TouchedKinds.Binding | TouchedKinds.Apps | TouchedKinds.OpenIds : TouchedKinds.None;

    public void Committed(in Touched touched)
    {
        // Answers carry open_ids and are per app: such rare operator writes forget them all.
        if ((touched.Kinds & (TouchedKinds.Apps | TouchedKinds.OpenIds)) != 0) ForgetAll();
        else if ((touched.Kinds & TouchedKinds.Binding) != 0) Forget(touched.BindingKey);
    }

    public bool Enabled => enabled;

    public int Count => _answers.Count;

    public bool TryGet(in Key key, out byte[] answer)
    {
        if (_answers.TryGetValue(key, out var found))
        {
            answer = found;
            return true;
        }
        answer = [];
        return false;
    }

    /// <summary>Taken before reading the database, and handed back to <see cref="Keep"/> with what was read.</summary>
    public long WritesSoFar => Volatile.Read(ref _writes);

    /// <summary>Keeps an answer read from the database, unless a write was forgotten since the read began.</summary>
    public void Keep(in Key key, long bindingKey, byte[] answer, long writesBeforeRead)
    {
        if (!enabled) return;
        lock (_gate)
        {
            if (_writes != writesBeforeRead) return;
            if (_answers.Count >= MaxAnswers) ClearLocked();
            if (!_answers.TryAdd(key, answer)) return;
            if (!_keysByBinding.TryGetValue(bindingKey, out var keys)) _keysByBinding[bindingKey] = keys = new List<Key>(1);
            keys.Add(key);
        }
    }

    /// <summary>A binding's row changed (status, removal): its answers go. Called after the change committed.</summary>
    private void Forget(long bindingKey)
    {
        if (!enabled) return;
        lock (_gate)
        {
            _writes++;
            if (!_keysByBinding.Remove(bindingKey, out var keys)) return;
            foreach (var key in keys) _answers.TryRemove(key, out _);
        }
    }

    /// <summary>Something every answer may depend on changed (users, apps, open_ids): all answers go.</summary>
    private void ForgetAll()
    {
        if (!enabled) return;
        lock (_gate)
        {
            _writes++;
            ClearLocked();
        }
    }

    private void ClearLocked()
    {
        _answers.Clear();
        _keysByBinding.Clear();
    }
}
