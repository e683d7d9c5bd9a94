using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// Copies the SQLite WAL back into the database on a connection of its own, so that the writer does not. With SQLite's
/// default (whichever connection commits past 1,000 pages checkpoints), the writer's commit also synced the WAL, copied
/// it and synced the database twenty to thirty times a second under a stream of creates, with every queued write
/// waiting behind those fsyncs (a tenth of the time; much more when another process keeps the disk busy).
/// <para>
/// Here, once writes were made and at most every <see cref="Interval"/>, a PASSIVE checkpoint copies what was committed
/// while the writer goes on. Under a steady stream of writes it can never catch up completely, and SQLite starts the
/// WAL over only when everything in it was copied: so once the WAL holds <see cref="RestartPages"/> and pages were
/// written during the copy, the checkpointer takes the writer's turn for one more checkpoint of those few, and the next
/// write starts the WAL from the beginning. The writer still checkpoints itself past <see cref="WriterFallbackPages"/>, so the WAL stays
/// bounded should this one fall behind.
/// </para>
/// </summary>
internal sealed class WalCheckpointer : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>16 MB of 4 KB pages: a WAL cycle every second or two at the bench's write rate.</summary>
    public const int RestartPages = 4_096;

    /// <summary>64 MB: four WAL cycles' worth, reached only if the checkpointer falls behind.</summary>
    public const int WriterFallbackPages = 16_384;

    private readonly Func<SqliteConnection> _open;
    private readonly Func<CancellationToken, ValueTask<System.Data.Common.DbConnection>> _takeWritersTurn;
    private readonly SemaphoreSlim _writesMade = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private TaskCompletionSource _checkpointed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _turnsTaken;
    private int _disposed;

    /// <param name="open">A connection of its own, configured as the others are.</param>
    /// <param name="takeWritersTurn">The writer's turn, given back when the connection is disposed.</param>
    public WalCheckpointer(Func<SqliteConnection> open, Func<CancellationToken, ValueTask<System.Data.Common.DbConnection>> takeWritersTurn)
    {
        _open = open;
        _takeWritersTurn = takeWritersTurn;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Completes when the next checkpoint has run (for tests).</summary>
    public Task NextCheckpoint => Volatile.Read(ref _checkpointed).Task;

    /// <summary>Times the checkpointer took the writer's turn (for tests and diagnostics).</summary>
    public long TurnsTaken => Interlocked.Read(ref _turnsTaken);

    /// <summary>Called after each writer's turn: a checkpoint is due.</summary>
    public void WritesMade()
    {
        if (_writesMade.CurrentCount > 0) return;
        try
        {
            _writesMade.Release();
        }
        catch (SemaphoreFullException)
        {
            // Another writer signalled first: one pending checkpoint covers both.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task LoopAsync()
    {
        SqliteConnection? connection = null;
        try
        {
            while (true)
            {
                await _writesMade.WaitAsync(_stop.Token);
                try
                {
                    connection ??= _open();
                    // Only when writes landed during the copy: a WAL copied whole is started over by the next write
                    // (an idle server would otherwise see the old length, and take the turn, round after round).
                    var (walPages, copied) = Checkpoint(connection);
                    if (walPages >= RestartPages && copied < walPages)
                    {
                        await using (await _takeWritersTurn(_stop.Token))
                            Checkpoint(connection);
                        Interlocked.Increment(ref _turnsTaken);
                    }
                    Interlocked.Exchange(ref _checkpointed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Tried again after the next writes (a full disk, a file gone read-only); the writer's own fallback
                    // bounds the WAL meanwhile.
                    connection?.Dispose();
                    connection = null;
                }
                await Task.Delay(Interval, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>A PASSIVE checkpoint: the pages the WAL holds and how many of them are now in the database.</summary>
    private static (int WalPages, int Copied) Checkpoint(SqliteConnection connection)
    {
        var result = SQLitePCL.raw.sqlite3_wal_checkpoint_v2(connection.Handle, null, SQLitePCL.raw.SQLITE_CHECKPOINT_PASSIVE,
            out var walPages, out var copied);
        if (result != SQLitePCL.raw.SQLITE_OK && result != SQLitePCL.raw.SQLITE_BUSY)
            throw new SqliteException($"WAL checkpoint failed: {SQLitePCL.raw.sqlite3_errstr(result).utf8_to_string()}", result);
        return (walPages, copied);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _writesMade.Dispose();
    }
}
