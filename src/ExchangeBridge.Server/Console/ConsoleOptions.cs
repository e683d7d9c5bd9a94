namespace ExchangeBridge.Server.Console;

/// <summary>Settings under "ExchangeBridge:Console": the operators' console at /console.</summary>
public sealed class ConsoleOptions
{
    public const string Section = "ExchangeBridge:Console";

    /// <summary>How long a signed-in session lasts; then the operator signs in again (not extended by use).</summary>
    public int SessionMinutes { get; set; } = 480;

    /// <summary>Sign-in attempts one source address may make per <see cref="SignInWindowSeconds"/>; more are refused (429).</summary>
    public int SignInAttempts { get; set; } = 10;

    public int SignInWindowSeconds { get; set; } = 300;

    /// <summary>A done binding whose last sync is older than this many sync intervals counts as late.</summary>
    public int LateAfterSyncIntervals { get; set; } = 3;

    public void Validate()
    {
        if (SessionMinutes < 1) throw new InvalidOperationException("ExchangeBridge:Console:SessionMinutes must be positive.");
        if (SignInAttempts < 1 || SignInWindowSeconds < 1)
            throw new InvalidOperationException("ExchangeBridge:Console:SignInAttempts and SignInWindowSeconds must be positive.");
        if (LateAfterSyncIntervals < 1) throw new InvalidOperationException("ExchangeBridge:Console:LateAfterSyncIntervals must be positive.");
    }
}
