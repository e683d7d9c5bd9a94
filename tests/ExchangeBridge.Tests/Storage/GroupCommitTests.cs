using Dapper;
using ExchangeBridge.Server.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Tests.Storage;

/// <summary>SQLite's group commit: writes queued behind a busy writer share one transaction, and each fails alone.</summary>
[Trait("Database", "Independent")]
public sealed class GroupCommitTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("exbridge-groupcommit-").FullName;
    private SqliteDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = new SqliteDatabase(Path.Combine(_dir, "t.db"));
        await using var c = await _database.OpenAsync();
        await c.ExecuteAsync("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)");
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<long> Insert(int x, CancellationToken ct = default) =>
        _database.WriteAsync(Touched.Nothing, (c, tx, token) =>
            c.ExecuteScalarAsync<long>(new CommandDefinition("INSERT INTO t (x) VALUES (@x) RETURNING x", new { x }, tx, cancellationToken: token)), ct);

    [Fact]
    public async Task Writes_queued_behind_the_writer_share_a_transaction_and_a_failing_one_fails_alone()
    {
        Task<long>[] writes;
        await using (await _database.TakeWritersTurnAsync())
            // 7 twice: whichever runs second violates the unique key.
            writes = Enumerable.Range(0, 20).Append(7).Select(x => Insert(x)).ToArray();

        var outcomes = await Task.WhenAll(writes.Select(async w =>
        {
            try { return (Value: await w, Error: (Exception?)null); }
            catch (Exception e) { return (Value: -1L, Error: e); }
        }));

        var failure = Assert.Single(outcomes, o => o.Error is not null).Error;
        Assert.True(_database.IsUniqueViolation(failure!), failure!.ToString());
        Assert.Equal(Enumerable.Range(0, 20).Select(x => (long)x), outcomes.Where(o => o.Error is null).Select(o => o.Value).Order());
        await using var c = await _database.OpenAsync();
        Assert.Equal(Enumerable.Range(0, 20), (await c.QueryAsync<int>("SELECT x FROM t ORDER BY x")).ToList());
        // The first write may have been taken alone before the others queued; everything after it went in one group.
        Assert.InRange(_database.GroupCommitTransactions, 1, 2);
    }

    [Fact]
    public async Task A_write_whose_caller_gave_up_before_its_turn_is_not_run()
    {
        using var gaveUp = new CancellationTokenSource();
        Task<long> kept, dropped;
        await using (await _database.TakeWritersTurnAsync())
        {
            kept = Insert(1);
            dropped = Insert(2, gaveUp.Token);
            gaveUp.Cancel();
        }
        Assert.Equal(1, await kept);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
        await using var c = await _database.OpenAsync();
        Assert.Equal([1], (await c.QueryAsync<int>("SELECT x FROM t")).ToList());
    }

    [Fact]
    public async Task A_lone_write_that_fails_leaves_nothing_behind_and_the_next_one_commits()
    {
        await Insert(1);
        await Assert.ThrowsAsync<SqliteException>(() => _database.WriteAsync<long>(Touched.Nothing, async (c, tx, token) =>
        {
            await c.ExecuteAsync(new CommandDefinition("INSERT INTO t (x) VALUES (2)", transaction: tx, cancellationToken: token));
            return await c.ExecuteScalarAsync<long>(new CommandDefinition("INSERT INTO t (x) VALUES (1) RETURNING x", transaction: tx, cancellationToken: token));
        }));
        Assert.Equal(3, await Insert(3));
        await using var c = await _database.OpenAsync();
        Assert.Equal([1, 3], (await c.QueryAsync<int>("SELECT x FROM t ORDER BY x")).ToList());
    }
}
