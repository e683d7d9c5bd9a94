namespace ExchangeBridge.Client.Pipeline;

/// <summary>
/// The app's tenant access token: fetched on first use, kept until shortly before it expires, fetched again once for
/// all concurrent callers, and dropped when the server refuses it.
/// </summary>
internal sealed class TenantTokenSource(Func<CancellationToken, Task<(string Token, int ExpiresInSeconds)>> fetch, TimeProvider clock)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile CachedToken? _current;

    public async ValueTask<string> GetAsync(CancellationToken ct)
    {
        if (_current is { } fresh && clock.GetUtcNow() < fresh.RenewAt) return fresh.Token;
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_current is { } other && clock.GetUtcNow() < other.RenewAt) return other.Token;
            var (token, expiresIn) = await fetch(ct).ConfigureAwait(false);
            // Renew with a margin (the platform hands out a new token in a token's last half hour).
            var margin = TimeSpan.FromSeconds(Math.Min(300, expiresIn / 2.0));
            _current = new CachedToken(token, clock.GetUtcNow() + TimeSpan.FromSeconds(expiresIn) - margin);
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets <paramref name="refused"/> unless a newer token already replaced it.</summary>
    public void Forget(string refused)
    {
        if (_current is { } current && current.Token == refused) _current = null;
    }

    private sealed record CachedToken(string Token, DateTimeOffset RenewAt);
}

/// <summary>
/// The user access token the binding endpoints need, with its refresh token: refreshed shortly before a known expiry
/// or when the server calls it expired or invalid, once for all concurrent callers.
/// </summary>
internal sealed class UserTokenSource(Func<string, CancellationToken, Task<UserTokens>> refresh, TimeProvider clock,
    Action<UserTokens>? changed)
{
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile State? _state;

    public bool HasToken => _state is not null;

    public void Set(string accessToken, string? refreshToken, DateTimeOffset? expiresAt) =>
        _state = new State(accessToken, refreshToken, expiresAt);

    public void Set(UserTokens tokens)
    {
        _state = new State(tokens.AccessToken, tokens.RefreshToken, tokens.ExpiresAt);
        changed?.Invoke(tokens);
    }

    public async ValueTask<string> GetAsync(CancellationToken ct)
    {
        var state = _state ?? throw new InvalidOperationException(
            "No user access token: set FeishuClientOptions.UserAccessToken or call ExchangeAuthorizationCodeAsync first.");
        if (state is { ExpiresAt: { } expiresAt, RefreshToken: not null } && clock.GetUtcNow() >= expiresAt - Margin)
            return await RefreshAsync(state.AccessToken, ct).ConfigureAwait(false) ?? state.AccessToken;
        return state.AccessToken;
    }

    /// <summary>
    /// Replaces <paramref name="stale"/> through the refresh token and answers the new access token; when another caller
    /// already replaced it, answers that one; null when there is no refresh token to use.
    /// </summary>
    public async Task<string?> RefreshAsync(string stale, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var state = _state;
            if (state is null) return null;
            if (state.AccessToken != stale) return state.AccessToken;
            if (state.RefreshToken is not { } refreshToken) return null;
            var tokens = await refresh(refreshToken, ct).ConfigureAwait(false);
            Set(tokens);
            return tokens.AccessToken;
        }
        finally
        {
            _gate.Release();
        }
    }

    private sealed record State(string AccessToken, string? RefreshToken, DateTimeOffset? ExpiresAt);
}
