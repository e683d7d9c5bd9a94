using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Tests.Storage;

/// <summary>On PostgreSQL, statements are prepared by Npgsql (Max Auto Prepare), unless the operator chose otherwise.</summary>
public sealed class PostgresDatabaseTests
{
    [Fact]
    public void Npgsql_prepares_statements_unless_the_operator_set_its_own_limit()
    {
        Assert.Equal(PostgresDatabase.AutoPreparedStatements,
            new Npgsql.NpgsqlConnectionStringBuilder(PostgresDatabase.WithAutoPrepare("Host=db;Username=u")).MaxAutoPrepare);
        Assert.Equal(0, new Npgsql.NpgsqlConnectionStringBuilder(PostgresDatabase.WithAutoPrepare("Host=db;Max Auto Prepare=0")).MaxAutoPrepare);
        Assert.Equal(8, new Npgsql.NpgsqlConnectionStringBuilder(PostgresDatabase.WithAutoPrepare("Host=db;MaxAutoPrepare=8")).MaxAutoPrepare);
    }
}
