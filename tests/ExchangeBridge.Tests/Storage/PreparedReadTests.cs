using Dapper;
using ExchangeBridge.Server.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Tests.Storage;

/// <summary>SQLite reads prepared once per pooled connection: re-bound on each call, never answering from a stale row.</summary>
[Trait("Database", "Independent")]
public sealed class PreparedReadTests : IAsyncLifetime
{
    private static readonly PreparedStatement FindName = new("SELECT id, name FROM t WHERE id = @id AND kind = @kind");

    private readonly string _dir = Directory.CreateTempSubdirectory("exbridge-prepared-").FullName;
    private SqliteDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = new SqliteDatabase(Path.Combine(_dir, "t.db"));
        await using var c = await _database.OpenAsync();
        await c.ExecuteAsync("CREATE TABLE t (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT)");
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private sealed record Row(long Id, string? Name);

    private static Row ReadRow(NamedRow r) => new(r.Int64("id"), r.NullableString("name"));

    private ValueTask<Row?> Find(long id, string kind) => _database.ReadSingleAsync(FindName, [("id", id), ("kind", kind)], ReadRow);

    private async Task Execute(string sql, object parameters)
    {
        await using var c = await _database.OpenAsync();
        await c.ExecuteAsync(sql, parameters);
    }

    [Fact]
    public async Task A_prepared_read_sees_each_later_write_and_each_binding_of_its_parameters()
    {
        Assert.Null(await Find(1, "a"));
        await Execute("INSERT INTO t (id, kind, name) VALUES (1, 'a', 'first'), (2, 'b', NULL)", new { });

        Assert.Equal(new Row(1, "first"), await Find(1, "a"));
        Assert.Null(await Find(1, "b"));
        Assert.Equal(new Row(2, null), await Find(2, "b"));

        await Execute("UPDATE t SET name = 'renamed' WHERE id = 1", new { });
        Assert.Equal(new Row(1, "renamed"), await Find(1, "a"));
        await Execute("DELETE FROM t WHERE id = 1", new { });
        Assert.Null(await Find(1, "a"));
    }

    [Fact]
    public async Task Concurrent_reads_each_get_their_own_row()
    {
        await Execute("INSERT INTO t (id, kind, name) SELECT value, 'k', 'n' || value FROM json_each(@ids)",
            new { ids = "[" + string.Join(",", Enumerable.Range(1, 200)) + "]" });

        var reads = Enumerable.Range(0, 2000).Select(i => Task.Run(async () =>
        {
            var id = 1 + i % 200;
            return (id, row: await Find(id, "k"));
        }));
        foreach (var (id, row) in await Task.WhenAll(reads))
            Assert.Equal(new Row(id, $"n{id}"), row);
    }

    [Fact]
    public async Task A_failed_read_leaves_the_next_one_working()
    {
        var broken = new PreparedStatement("SELECT id, name FROM no_such_table WHERE id = @id");
        await Assert.ThrowsAsync<SqliteException>(async () => await _database.ReadSingleAsync(broken, [("id", 1L)], ReadRow));
        await Execute("INSERT INTO t (id, kind, name) VALUES (5, 'a', 'five')", new { });
        Assert.Equal(new Row(5, "five"), await Find(5, "a"));
    }

    [Fact]
    public async Task A_writer_that_leaves_its_transaction_open_is_rolled_back_and_the_next_writer_starts_clean()
    {
        var careless = await _database.TakeWritersTurnAsync();
        var transaction = await careless.BeginTransactionAsync();
        await careless.ExecuteAsync("INSERT INTO t (id, kind, name) VALUES (7, 'a', 'never committed')", transaction: transaction);
        await careless.DisposeAsync(); // the transaction object is dropped without Commit, Rollback or Dispose

        await using (var next = await _database.TakeWritersTurnAsync())
        await using (var clean = await next.BeginTransactionAsync())
        {
            await next.ExecuteAsync("INSERT INTO t (id, kind, name) VALUES (8, 'a', 'committed')", transaction: clean);
            await clean.CommitAsync();
        }

        Assert.Null(await Find(7, "a"));
        Assert.Equal(new Row(8, "committed"), await Find(8, "a"));
    }

    [Fact]
    public async Task A_statement_given_fewer_values_than_parameters_is_refused_rather_than_reusing_old_ones()
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await _database.ReadSingleAsync(FindName, [("id", 1L)], ReadRow));
    }

    [Fact]
    public async Task Values_go_to_the_parameters_they_name_in_whatever_order_they_are_given()
    {
        await Execute("INSERT INTO t (id, kind, name) VALUES (1, 'a', 'first'), (2, 'b', 'second')", new { });
        // The parameters appear in the SQL as @id then @kind; given the other way round they still land by name.
        Assert.Equal(new Row(2, "second"), await _database.ReadSingleAsync(FindName, [("kind", "b"), ("id", 2L)], ReadRow));
        Assert.Null(await _database.ReadSingleAsync(FindName, [("kind", "a"), ("id", 2L)], ReadRow));
    }

    [Fact]
    public async Task A_value_for_a_parameter_the_statement_does_not_name_or_a_parameter_given_twice_is_refused()
    {
        var unknown = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await _database.ReadSingleAsync(FindName, [("id", 1L), ("kindd", "a")], ReadRow));
        Assert.Contains("@kindd", unknown.Message);
        await Assert.ThrowsAsync<ArgumentException>(async () => await _database.ReadSingleAsync(FindName, [("kind", 1L), ("kind", "a")], ReadRow));
    }

    [Fact]
    public async Task Columns_are_read_by_name_so_a_reordered_select_reads_the_same_row()
    {
        await Execute("INSERT INTO t (id, kind, name) VALUES (3, 'a', 'three')", new { });
        var reordered = new PreparedStatement("SELECT name, kind, id FROM t WHERE id = @id AND kind = @kind");
        Assert.Equal(new Row(3, "three"), await _database.ReadSingleAsync(reordered, [("id", 3L), ("kind", "a")], ReadRow));

        var missing = new PreparedStatement("SELECT id FROM t WHERE id = @id");
        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await _database.ReadSingleAsync(missing, [("id", 3L)], ReadRow));
        Assert.Contains("no column name", refused.Message);
    }

    [Fact]
    public async Task After_the_database_is_disposed_no_writer_turn_is_handed_out()
    {
        await _database.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await _database.TakeWritersTurnAsync());
        _database = new SqliteDatabase(Path.Combine(_dir, "t.db")); // for DisposeAsync
    }

    [Fact]
    public async Task A_second_server_on_the_same_database_is_refused_until_the_first_lets_go()
    {
        var path = Path.Combine(_dir, "t.db");
        Assert.True(_database.OwnsDatabaseAlone);
        var refused = Assert.Throws<InvalidOperationException>(() => new SqliteDatabase(path));
        Assert.Contains("in use by another ExchangeBridge server", refused.Message);

        await _database.DisposeAsync();
        _database = new SqliteDatabase(path);
        Assert.Null(await Find(1, "a"));
    }
}
