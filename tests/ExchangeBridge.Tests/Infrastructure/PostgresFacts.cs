namespace ExchangeBridge.Tests.Infrastructure;

/// <summary>A test that needs PostgreSQL (EXBRIDGE_TEST_POSTGRES): skipped, and said so, where there is none.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestDatabases.OnPostgres) Skip = "needs a PostgreSQL server: set EXBRIDGE_TEST_POSTGRES (CI does)";
    }
}

/// <summary>The theory form of <see cref="PostgresFactAttribute"/>.</summary>
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (!TestDatabases.OnPostgres) Skip = "needs a PostgreSQL server: set EXBRIDGE_TEST_POSTGRES (CI does)";
    }
}

/// <summary>A test that needs PostgreSQL and Redis (EXBRIDGE_TEST_REDIS).</summary>
public sealed class PostgresAndRedisFactAttribute : FactAttribute
{
    public static string? Redis => Environment.GetEnvironmentVariable("EXBRIDGE_TEST_REDIS") is { Length: > 0 } s ? s : null;

    public PostgresAndRedisFactAttribute()
    {
        if (!TestDatabases.OnPostgres || Redis is null)
            Skip = "needs PostgreSQL and Redis: set EXBRIDGE_TEST_POSTGRES and EXBRIDGE_TEST_REDIS (CI does)";
    }
}
