using Dapper;
using ExchangeBridge.Server.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Tests.Storage;

/// <summary>
/// The pooled read connections keep a page cache that holds a week's range-index pages between free/busy requests; the
/// writer keeps SQLite's default, even on a native handle the driver's pool gave a read before.
/// </summary>
[Trait("Database", "Independent")]
public sealed class SqliteDatabaseTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("exbridge-sqlite-").FullName;
    private SqliteDatabase _database = null!;

    public Task InitializeAsync()
    {
        _database = new SqliteDatabase(Path.Combine(_dir, "t.db"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_pooled_read_has_a_16_MB_page_cache_and_the_writer_the_default_on_the_same_handle()
    {
        object readHandle;
        await using (var read = (SqliteConnection)await _database.OpenAsync())
        {
            Assert.Equal(-16 * 1024, await read.ExecuteScalarAsync<long>("PRAGMA cache_size"));
            readHandle = read.Handle!;
        }

        // The writer opens after the read went back to the pool: the driver hands it the same native handle.
        await using var writer = (SqliteConnection)await _database.TakeWritersTurnAsync();
        Assert.Same(readHandle, writer.Handle);
        Assert.Equal(-2000, await writer.ExecuteScalarAsync<long>("PRAGMA cache_size"));
    }
}
