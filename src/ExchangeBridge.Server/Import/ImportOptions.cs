namespace ExchangeBridge.Server.Import;

/// <summary>Settings under "ExchangeBridge:Import".</summary>
public sealed class ImportOptions
{
    public const string Section = "ExchangeBridge:Import";

    /// <summary>The recent window imported first (status timespan_done when it is in).</summary>
    public int WindowDaysBack { get; set; } = 30;
    public int WindowDaysAhead { get; set; } = 365;

    /// <summary>How often a done binding is synced incrementally.</summary>
    public int SyncIntervalSeconds { get; set; } = 300;

    /// <summary>Jobs run at once by this instance.</summary>
    public int Workers { get; set; } = 2;

    /// <summary>How long a claimed job stays leased without a sign of life; a dead worker's job is retaken after it.</summary>
    public int LeaseSeconds { get; set; } = 60;

    /// <summary>Idle workers look for due jobs this often (a new binding wakes them at once).</summary>
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>Transient failures in a row before a binding is given up as err.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Items listed per FindItem / SyncFolderItems page, and fetched per GetItem call.</summary>
    public int PageSize { get; set; } = 256;
    public int FetchBatchSize { get; set; } = 50;

    public void Validate()
    {
        if (WindowDaysBack < 0 || WindowDaysAhead < 0) throw new InvalidOperationException("ExchangeBridge:Import window days must not be negative.");
        if (SyncIntervalSeconds < 1) throw new InvalidOperationException("ExchangeBridge:Import:SyncIntervalSeconds must be positive.");
        if (Workers < 0) throw new InvalidOperationException("ExchangeBridge:Import:Workers must not be negative (0 disables the worker).");
        if (LeaseSeconds < 5) throw new InvalidOperationException("ExchangeBridge:Import:LeaseSeconds must be at least 5.");
        if (PageSize is < 1 or > 512) throw new InvalidOperationException("ExchangeBridge:Import:PageSize must be 1..512 (EWS returns at most 512 changes).");
        if (FetchBatchSize is < 1 or > 100) throw new InvalidOperationException("ExchangeBridge:Import:FetchBatchSize must be 1..100.");
        if (MaxAttempts < 1) throw new InvalidOperationException("ExchangeBridge:Import:MaxAttempts must be positive.");
    }
}
