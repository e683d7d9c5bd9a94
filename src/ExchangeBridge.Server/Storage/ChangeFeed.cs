namespace ExchangeBridge.Server.Storage;

/// <summary>An in-memory cache that forgets what a committed write touched (it subscribes to the database's <see cref="ChangeFeed"/>).</summary>
public interface ICommitListener
{
    /// <summary>The kinds of rows the cache holds right now (none while it is off): a write touching none of them is not sent to other instances.</summary>
    TouchedKinds Holds { get; }

    /// <summary>A write that touched <paramref name="touched"/> has committed (here or on another instance): forget what depends on it.</summary>
    void Committed(in Touched touched);
}

/// <summary>
/// The commit hook: the database announces what each write touched, once, after its commit, to every cache subscribed
/// here; on PostgreSQL the other instances' writes arrive here too (<see cref="PostgresChangeListener"/>). While this
/// instance cannot hear the others (<see cref="CachesMayServe"/> false) caches answer from the database and keep nothing.
/// </summary>
public sealed class ChangeFeed
{
    private volatile ICommitListener[] _listeners = [];
    private readonly Lock _subscribing = new();
    private volatile bool _cachesMayServe;

    /// <param name="hearsEveryWrite">true where every write is this process's own (SQLite's single owner); false until
    /// another instance's writes can be heard.</param>
    public ChangeFeed(bool hearsEveryWrite) => _cachesMayServe = hearsEveryWrite;

    /// <summary>False while changes made by other instances could go unheard: a cache then neither answers nor keeps.</summary>
    public bool CachesMayServe => _cachesMayServe;

    public void Subscribe(ICommitListener listener)
    {
        lock (_subscribing) _listeners = [.. _listeners, listener];
    }

    /// <summary>The kinds some cache holds: only a write touching one of them is worth telling other instances.</summary>
    public TouchedKinds Held
    {
        get
        {
            var held = TouchedKinds.None;
            foreach (var listener in _listeners) held |= listener.Holds;
            return held;
        }
    }

    /// <summary>Tells every cache that <paramref name="touched"/> committed. Called after the commit, never before.</summary>
    public void Announce(in Touched touched)
    {
        if (touched.IsNothing) return;
        foreach (var listener in _listeners) listener.Committed(touched);
    }

    /// <summary>Other instances' changes can no longer be heard: caches stop answering until <see cref="Hearing"/>.</summary>
    public void Deaf()
    {
        _cachesMayServe = false;
        Announce(new Touched(TouchedKinds.Everything));
    }

    /// <summary>
    /// Other instances' changes are heard from now on. What was committed while nobody listened is unknown, so
    /// everything is forgotten first, then caches may serve again.
    /// </summary>
    public void Hearing()
    {
        Announce(new Touched(TouchedKinds.Everything));
        _cachesMayServe = true;
    }
}
