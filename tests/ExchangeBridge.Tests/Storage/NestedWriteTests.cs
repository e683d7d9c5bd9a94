using Dapper;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Storage;

/// <summary>
/// A write started inside another write fails at once with a message that says so. On SQLite it used to wait forever
/// for the writer's turn its own caller held; on PostgreSQL it committed apart from its caller.
/// </summary>
public sealed class NestedWriteTests() : ServerTests(new TestServer())
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private IDatabase Database => Server.Services.GetRequiredService<IDatabase>();

    [Fact]
    public async Task A_store_write_called_inside_a_write_throws_at_once_instead_of_hanging_and_the_outer_write_is_rolled_back()
    {
        var admin = Server.Services.GetRequiredService<AdminStore>();
        var outer = Database.WriteAsync(Touched.Nothing, async (c, tx, ct) =>
        {
            await c.ExecuteAsync(new CommandDefinition(
                "INSERT INTO tenants (tenant_key, name, created_at) VALUES ('outer', 'outer', 0)", transaction: tx, cancellationToken: ct));
            await admin.CreateTenantAsync("inner", "inner", 0, ct);
            return 0;
        });

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => outer.WaitAsync(Deadline));
        Assert.StartsWith("A write was started inside another write;", refused.Message);
        Assert.Empty(await TenantKeysAsync("outer", "inner"));

        // The writer's turn was given back: the next write commits.
        await admin.CreateTenantAsync("after", "after", 0, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(["after"], await TenantKeysAsync("after"));
    }

    [Fact]
    public async Task Writes_one_after_another_on_the_same_flow_are_not_mistaken_for_nested_ones()
    {
        var admin = Server.Services.GetRequiredService<AdminStore>();
        await admin.CreateTenantAsync("first", "first", 0, CancellationToken.None).WaitAsync(Deadline);
        await Database.WriteAsync(Touched.Nothing, (c, tx, ct) => c.ExecuteAsync(new CommandDefinition(
            "UPDATE tenants SET name = 'renamed' WHERE tenant_key = 'first'", transaction: tx, cancellationToken: ct))).WaitAsync(Deadline);
        await admin.CreateTenantAsync("second", "second", 0, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(["first", "second"], await TenantKeysAsync("first", "second"));
    }

    private async Task<List<string>> TenantKeysAsync(params string[] keys)
    {
        await using var c = await Database.OpenAsync();
        return (await c.QueryAsync<string>(
            $"SELECT tenant_key FROM tenants WHERE {Database.InList("tenant_key", "@keys")} ORDER BY tenant_key", new { keys = Database.ListArgument(keys) })).AsList();
    }
}
