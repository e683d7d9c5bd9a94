namespace ExchangeBridge.Server.Hosting;

/// <summary>Settings under "ExchangeBridge" (appsettings.json, EXCHANGEBRIDGE__X environment variables, --data-dir).</summary>
public sealed class ServerOptions
{
    public const string Section = "ExchangeBridge";

    /// <summary>Folder of the SQLite database, the master key file and bootstrap.json.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>Also register the seed page's example admin account and user, served by the Exchange simulator.</summary>
    public bool Demo { get; set; }

    /// <summary>
    /// A PostgreSQL connection string: when set, data lives there instead of SQLite in the data folder, and several
    /// instances may share it.
    /// </summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Base64 of 32 bytes; when absent a key file in the data folder is used.</summary>
    public string? MasterKey { get; set; }

    public int AccessTokenLifetimeSeconds { get; set; } = 7200;
    public int RefreshTokenLifetimeSeconds { get; set; } = 30 * 24 * 3600;
    public int AuthorizationCodeLifetimeSeconds { get; set; } = 300;

    /// <summary>How long a validated token's caller is trusted without asking the database again.</summary>
    public int TokenCacheSeconds { get; set; } = 10;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDir)) throw new InvalidOperationException("ExchangeBridge:DataDir must name a folder.");
        if (AccessTokenLifetimeSeconds < 60) throw new InvalidOperationException("ExchangeBridge:AccessTokenLifetimeSeconds must be at least 60.");
        if (RefreshTokenLifetimeSeconds < AccessTokenLifetimeSeconds)
            throw new InvalidOperationException("ExchangeBridge:RefreshTokenLifetimeSeconds must not be shorter than the access token's.");
        if (AuthorizationCodeLifetimeSeconds < 1) throw new InvalidOperationException("ExchangeBridge:AuthorizationCodeLifetimeSeconds must be positive.");
        if (TokenCacheSeconds < 0) throw new InvalidOperationException("ExchangeBridge:TokenCacheSeconds must not be negative.");
    }
}
