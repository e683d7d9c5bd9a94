using Dapper;
using ExchangeBridge.Server.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Tests.Storage;

/// <summary>The WAL is copied into the database by the background checkpointer, not by the writer's commits.</summary>
[Trait("Database", "Independent")]
public sealed class WalCheckpointerTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("exbridge-checkpoint-").FullName;
    private string DatabasePath => Path.Combine(_dir, "t.db");
    private SqliteDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = new SqliteDatabase(DatabasePath);
        await using var c = await _database.OpenAsync();
        await c.ExecuteAsync("CREATE TABLE t (x INTEGER NOT NULL, payload BLOB NOT NULL)");
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Commits one row of <paramref name="payloadBytes"/> and waits for the checkpoint its commit signals.</summary>
    private async Task WriteThenAwaitCheckpointAsync(int payloadBytes)
    {
        var checkpointed = _database.WalCheckpoints.NextCheckpoint;
        await _database.WriteAsync(Touched.Nothing, (c, tx, ct) => c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO t (x, payload) VALUES (1, zeroblob(@payloadBytes))", new { payloadBytes }, tx, cancellationToken: ct)));
        await checkpointed.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_writer_checkpoints_only_past_its_fallback()
    {
        await using var writer = await _database.TakeWritersTurnAsync();
        Assert.Equal(WalCheckpointer.WriterFallbackPages, await writer.ExecuteScalarAsync<int>("PRAGMA wal_autocheckpoint"));
    }

    [Fact]
    public async Task A_WAL_copied_whole_is_left_to_the_next_write_without_taking_the_writers_turn()
    {
        // More than RestartPages, with nothing written while it is copied.
        await WriteThenAwaitCheckpointAsync(20_000_000);

        Assert.Equal(0, _database.WalCheckpoints.TurnsTaken);
    }

    [Fact]
    public async Task Disposing_twice_is_harmless()
    {
        await _database.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task What_a_write_committed_reaches_the_database_file_after_the_next_checkpoint()
    {
        // Past SQLite's default automatic checkpoint (1,000 pages), which the writer no longer runs.
        await WriteThenAwaitCheckpointAsync(6_000_000);

        // The database file alone, without its WAL, holds the row.
        var copy = Path.Combine(_dir, "copy.db");
        File.Copy(DatabasePath, copy);
        await using var c = new SqliteConnection($"Data Source={copy};Pooling=False");
        await c.OpenAsync();
        Assert.Equal(6_000_000, await c.ExecuteScalarAsync<long>("SELECT length(payload) FROM t WHERE x = 1"));
    }
}
