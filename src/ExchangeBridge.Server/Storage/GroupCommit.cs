using System.Data.Common;
using System.Threading.Channels;

namespace ExchangeBridge.Server.Storage;

/// <summary>One unit of a write transaction: it runs on the shared connection and transaction, and is answered after the commit.</summary>
public delegate Task<T> WriteWork<T>(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

/// <summary>
/// Group commit for a database with one writer at a time (SQLite): the writes that queue while a transaction is open
/// are run together in the next one, each inside its own savepoint, and each caller is answered once that transaction
/// has committed. A work that fails is rolled back to its savepoint and fails alone; a failed commit fails the group.
/// Durability per caller is unchanged (nobody hears "done" before the commit), while BEGIN, COMMIT and the WAL writes of
/// shared pages are paid once per group instead of once per request. After the shared commit, what each work that
/// succeeded touched is announced to the caches (<see cref="ChangeFeed"/>) before any caller is answered, so a caller
/// never reads its own write's old answer from memory.
/// </summary>
public sealed class GroupCommit : IAsyncDisposable
{
    /// <summary>Enough to amortise the commit; few enough that one group's transaction stays short.</summary>
    private const int MaxGroup = 64;

    private static readonly PreparedStatement Savepoint = new("SAVEPOINT w");
    private static readonly PreparedStatement RollbackToSavepoint = new("ROLLBACK TO w");
    private static readonly PreparedStatement ReleaseSavepoint = new("RELEASE w");

    private readonly Func<CancellationToken, ValueTask<DbConnection>> _openWriter;
    private readonly ChangeFeed _changes;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private long _transactions;

    public GroupCommit(Func<CancellationToken, ValueTask<DbConnection>> openWriter, ChangeFeed changes)
    {
        _openWriter = openWriter;
        _changes = changes;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Write transactions committed so far (for tests and diagnostics).</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    public Task<T> RunAsync<T>(WriteWork<T> work, Touched touched, Func<T, Touched>? touchedBy, CancellationToken cancellationToken)
    {
        var pending = new Pending<T>(work, touched, touchedBy, cancellationToken);
        if (!_queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(GroupCommit));
        return pending.Task;
    }

    private async Task LoopAsync()
    {
        // Every work runs on this loop's flow: a write it starts fails at once rather than waiting for this loop.
        NestedWrites.Enter();
        var group = new List<Pending>(MaxGroup);
        while (await _queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out var pending))
                if (!pending.TryCancel()) group.Add(pending);
            if (group.Count > 0) await CommitAsync(group);
        }
    }

    private async Task CommitAsync(List<Pending> group)
    {
        try
        {
            await using var connection = await _openWriter(CancellationToken.None);
            await using var transaction = await connection.BeginTransactionAsync();
            if (group.Count == 1)
                await group[0].RunAsync(connection, transaction);
            else
                foreach (var pending in group)
                {
                    // One savepoint name, reused: each is released before the next is taken, and the statements stay prepared.
                    await connection.ExecuteAsync(transaction, Savepoint, [], CancellationToken.None);
                    try
                    {
                        await pending.RunAsync(connection, transaction);
                    }
                    catch (Exception e)
                    {
                        pending.Failure = e;
                        await connection.ExecuteAsync(transaction, RollbackToSavepoint, [], CancellationToken.None);
                    }
                    await connection.ExecuteAsync(transaction, ReleaseSavepoint, [], CancellationToken.None);
                }
            await transaction.CommitAsync();
            Interlocked.Increment(ref _transactions);
            foreach (var pending in group)
                if (pending.Failure is null) _changes.Announce(pending.Touched);
            foreach (var pending in group) pending.Answer();
        }
        catch (Exception e)
        {
            foreach (var pending in group) pending.Fail(e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }


    private abstract class Pending
    {
        public Exception? Failure { get; set; }
        /// <summary>What the work touched; known once it has run.</summary>
        public abstract Touched Touched { get; }
        public abstract bool TryCancel();
        public abstract Task RunAsync(DbConnection connection, DbTransaction transaction);
        public abstract void Answer();
        public abstract void Fail(Exception e);
    }

    private sealed class Pending<T>(WriteWork<T> work, Touched touched, Func<T, Touched>? touchedBy, CancellationToken cancellationToken) : Pending
    {
        private readonly TaskCompletionSource<T> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _answer.Task;

        public override Touched Touched => touchedBy is null ? touched : touchedBy(_result!);

        public override bool TryCancel() => cancellationToken.IsCancellationRequested && _answer.TrySetCanceled(cancellationToken);

        public override async Task RunAsync(DbConnection connection, DbTransaction transaction) =>
            _result = await work(connection, transaction, cancellationToken);

        public override void Answer()
        {
            if (Failure is null) _answer.TrySetResult(_result!);
            else _answer.TrySetException(Failure);
        }

        public override void Fail(Exception e) => _answer.TrySetException(Failure ?? e);
    }
}
