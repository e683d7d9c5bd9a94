using Dapper;
using ExchangeBridge.Server.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Tests.Storage;

/// <summary>
/// Every connection the server opens on its SQLite database, the readers' and the writer's, reads the database's pages
/// from a mapping of the file and keeps a private page cache larger than SQLite's 2 MB default: a free/busy answer reads
/// index pages of a hundred calendars, which were otherwise each a pread and a copy.
/// </summary>
[Trait("Database", "Independent")]
public sealed class SqliteDatabaseTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("exbridge-sqlite-settings-").FullName;
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
    public async Task Readers_and_the_writer_map_the_database_file_and_keep_a_larger_page_cache()
    {
        await using (var reader = await _database.OpenAsync())
            await AssertMappedWithLargerCacheAsync(reader);
        await using var writer = await _database.TakeWritersTurnAsync();
        await AssertMappedWithLargerCacheAsync(writer);
    }

    private static async Task AssertMappedWithLargerCacheAsync(System.Data.Common.DbConnection connection)
    {
        // What SQLite answers is the size in effect, after its build's cap: 0 would mean no mapping at all.
        Assert.True(await connection.ExecuteScalarAsync<long>("PRAGMA mmap_size") >= 1L << 30);
        // A negative cache_size is in KiB: at least 8 MB.
        Assert.True(await connection.ExecuteScalarAsync<long>("PRAGMA cache_size") <= -8192);
    }
}
