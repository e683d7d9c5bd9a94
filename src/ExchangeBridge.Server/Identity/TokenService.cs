using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Hosting;
using ExchangeBridge.Server.Storage;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Identity;

public sealed record IssuedToken(string Token, int ExpiresInSeconds);

/// <summary>Why a code or refresh token bought nothing; each token endpoint words it its own way.</summary>
public enum GrantFailure { None, CodeInvalid, CodeExpired, AppMismatch, RedirectMismatch, UserResigned, RefreshInvalid, RefreshExpired }

public sealed record GrantResult(IssuedUserTokens? Tokens, GrantFailure Failure)
{
    public static GrantResult Failed(GrantFailure failure) => new(null, failure);
}

public sealed record IssuedUserTokens(
    string AccessToken, int ExpiresIn, string RefreshToken, int RefreshExpiresIn, string Scope);

/// <summary>
/// Issues and validates the platform's tokens. Tokens are opaque random strings stored as SHA-256 hashes;
/// validated callers are cached briefly (<see cref="ServerOptions.TokenCacheSeconds"/>) so an authenticated
/// request costs no database round trip for its token. The cache is keyed by the token itself, which this process
/// holds anyway while it serves the request: only the database must never see a token in the clear. A committed
/// change of standing (a user resigned or demoted, an app deleted, tokens revoked), on this instance or another,
/// empties the caches (<see cref="ICommitListener"/>); while other instances cannot be heard they are not used.
/// </summary>
public sealed class TokenService : ICommitListener
{
    private const int CacheLimit = 100_000;
    private readonly IdentityStore _store;
    private readonly SecretProtector _protector;
    private readonly TimeProvider _clock;
    private readonly ChangeFeed _changes;
    private readonly ServerOptions _options;
    private readonly ConcurrentDictionary<string, (Caller Caller, long CachedUntilMs)> _callers = new();
    // Fills of the caches and Committed take turns under _gate; _forgets counts the forgetting.
    private readonly Lock _gate = new();
    private long _forgets;
    private readonly ConcurrentDictionary<(string AppId, TokenKind Kind), (string Token, long ExpiresAtMs)> _appTokens = new();
    private readonly ConcurrentDictionary<string, (AppRecord App, byte[] Secret, long CachedUntilMs)> _apps = new();

    public TokenService(IdentityStore store, SecretProtector protector, TimeProvider clock, IOptions<ServerOptions> options, ChangeFeed changes)
    {
        _store = store;
        _protector = protector;
        _clock = clock;
        _options = options.Value;
        _changes = changes;
        changes.Subscribe(this);
    }

    private long NowMs => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// The app a token request names, with its secret to check against (<see cref="VerifySecret"/>): 10003 when the
    /// request is malformed or names no app.
    /// </summary>
    public async Task<PresentedApp> FindPresentedAppAsync(string? appId, string? appSecret, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(appId) || string.IsNullOrEmpty(appSecret) || appId.Length > 128 || appSecret.Length > 256)
            throw new FeishuException(FeishuErrors.TokenInvalidParam);
        var (app, secret) = await FindAppAsync(appId, ct);
        if (app is null) throw new FeishuException(FeishuErrors.TokenInvalidParam);
        return new PresentedApp(app, appSecret, secret);
    }

    /// <summary>The app, if the presented secret is its own (compared in constant time); 10014 otherwise.</summary>
    public static AppRecord VerifySecret(PresentedApp presented)
    {
        // At most 256 characters (checked when found): the presented secret's UTF-8 fits on the stack.
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(256)];
        bytes = bytes[..Encoding.UTF8.GetBytes(presented.PresentedSecret, bytes)];
        var matches = CryptographicOperations.FixedTimeEquals(presented.Secret, bytes);
        CryptographicOperations.ZeroMemory(bytes);
        if (!matches) throw new FeishuException(FeishuErrors.AppSecretInvalid);
        return presented.App;
    }

    /// <summary>
    /// The app and its secret (UTF-8), from a short-lived cache (as validated callers are), so a token request costs no
    /// read and no decryption. Holding the decrypted secret adds no exposure: this process holds the master key too.
    /// </summary>
    private async ValueTask<(AppRecord? App, byte[] Secret)> FindAppAsync(string appId, CancellationToken ct)
    {
        var now = NowMs;
        if (_changes.CachesMayServe && _apps.TryGetValue(appId, out var cached) && cached.CachedUntilMs > now) return (cached.App, cached.Secret);
        var forgetsBeforeRead = Volatile.Read(ref _forgets);
        var app = await _store.FindAppAsync(appId, ct);
        if (app is null) return (null, []);
        var secret = Encoding.UTF8.GetBytes(_protector.Unprotect(app.SecretProtected));
        lock (_gate)
        {
            if (_forgets != forgetsBeforeRead || !_changes.CachesMayServe) return (app, secret);
            if (_apps.Count >= CacheLimit) _apps.Clear();
            _apps[appId] = (app, secret, now + _options.TokenCacheSeconds * 1000L);
        }
        return (app, secret);
    }

    /// <summary>
    /// A tenant or app token for the app. As on the platform, a token with more than half an hour left is handed
    /// out again rather than minting a new one on every call.
    /// </summary>
    public async Task<IssuedToken> IssueAppScopedTokenAsync(AppRecord app, TokenKind kind, CancellationToken ct)
    {
        var now = NowMs;
        var lifetimeMs = _options.AccessTokenLifetimeSeconds * 1000L;
        if (_appTokens.TryGetValue((app.AppId, kind), out var current) && current.ExpiresAtMs - now > Math.Min(30 * 60_000, lifetimeMs / 2))
            return new IssuedToken(current.Token, (int)((current.ExpiresAtMs - now) / 1000));

        var token = OpaqueSecrets.NewToken(kind);
        var expiresAt = now + lifetimeMs;
        await _store.InsertTokenAsync(OpaqueSecrets.Hash(token), StoredTokenKinds.Of(kind), app.AppId, app.TenantKey, null, expiresAt, ct);
        _appTokens[(app.AppId, kind)] = (token, expiresAt);
        return new IssuedToken(token, _options.AccessTokenLifetimeSeconds);
    }

    /// <summary>Validates a bearer token; throws the platform's error for a missing, unknown or expired one.</summary>
    public async ValueTask<Caller> ValidateAsync(string token, CancellationToken ct)
    {
        var kind = TokenPrefixes.KindOf(token);
        if (kind is null or TokenKind.Refresh || token.Length > 256) throw new FeishuException(InvalidFor(kind));

        var now = NowMs;
        if (_changes.CachesMayServe && _callers.TryGetValue(token, out var cached) && cached.CachedUntilMs > now)
        {
            if (cached.Caller.ExpiresAtMs <= now) throw new FeishuException(ExpiredFor(kind.Value));
            return cached.Caller;
        }

        var forgetsBeforeRead = Volatile.Read(ref _forgets);
        var record = await _store.FindTokenAsync(OpaqueSecrets.Hash(token), ct);
        if (record is null || StoredTokenKinds.Of(kind.Value) != record.Kind) throw new FeishuException(InvalidFor(kind));
        if (record.ExpiresAt <= now) throw new FeishuException(ExpiredFor(kind.Value));
        // Revoked when its user resigned: still recognised while they are resigned (the policies answer "resigned"),
        // unknown once they are reinstated, who must sign in again.
        if (record.RevokedAt is not null && record.ResignedAt is null) throw new FeishuException(InvalidFor(kind));
        // The API never issues such a token; a database restored from mixed backups, or edited by hand, could hold one.
        if (record.AppTenantKey != record.TenantKey)
            throw new FeishuException(FeishuErrors.WrongUnitForAppTenant,
                troubleshooter: "the token was issued in another tenant than its app's: get a new token with the app's app_id and app_secret");

        var caller = new Caller(kind.Value, record.TenantKey, record.AppId, record.UserId,
            record.IsSuperAdmin ?? false, record.ResignedAt is not null,
            record.AppScopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(), record.ExpiresAt, record.AppHasBot);
        lock (_gate)
        {
            // A validation that read the token before a change of standing was forgotten would bring the old standing back.
            if (_forgets != forgetsBeforeRead || !_changes.CachesMayServe) return caller;
            if (_callers.Count >= CacheLimit) _callers.Clear();
            _callers[token] = (caller, now + _options.TokenCacheSeconds * 1000L);
        }
        return caller;
    }

    /// <summary>
    /// The caller of a token validated a moment ago, with no database read and no refusal: false sends the request the
    /// long way, through <see cref="ValidateAsync"/>, which says what is wrong with the token.
    /// </summary>
    public bool TryGetCachedCaller(ReadOnlySpan<char> token, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Caller? caller)
    {
        var now = NowMs;
        // Looked up by the header's span, so a cached caller costs no substring.
        if (_changes.CachesMayServe &&
            _callers.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(token, out var cached) && cached.CachedUntilMs > now && cached.Caller.ExpiresAtMs > now)
        {
            caller = cached.Caller;
            return true;
        }
        caller = null;
        return false;
    }

    /// <summary>Mints a single-use authorization code for a user of the app (stands in for the login page).</summary>
    public async Task<string> MintAuthorizationCodeAsync(AppRecord app, string userId, string? redirectUri, CancellationToken ct)
    {
        var code = OpaqueSecrets.NewAlphanumeric(32);
        await _store.InsertCodeAsync(OpaqueSecrets.Hash(code), app.AppId, app.TenantKey, userId, redirectUri,
            NowMs + _options.AuthorizationCodeLifetimeSeconds * 1000L, ct);
        return code;
    }

    /// <summary>
    /// Exchanges a code of <paramref name="appId"/>'s for a user token and refresh token. A code minted with a redirect_uri
    /// buys nothing without that same redirect_uri (RFC 6749 §4.1.3).
    /// </summary>
    public async Task<GrantResult> RedeemCodeAsync(string appId, string code, string? redirectUri, CancellationToken ct)
    {
        if (code.Length is 0 or > 256) return GrantResult.Failed(GrantFailure.CodeInvalid);
        var (pair, tokens) = NewPair(appId);
        var now = NowMs;
        var record = await _store.RedeemCodeAsync(OpaqueSecrets.Hash(code), now, redirectUri, pair, ct);
        if (record is null || record.UsedAt is not null) return GrantResult.Failed(GrantFailure.CodeInvalid);
        if (record.AppId != appId) return GrantResult.Failed(GrantFailure.AppMismatch);
        if (record.ExpiresAt <= now) return GrantResult.Failed(GrantFailure.CodeExpired);
        if (record.ResignedAt is not null) return GrantResult.Failed(GrantFailure.UserResigned);
        if (!IdentityStore.RedirectMatches(record, redirectUri)) return GrantResult.Failed(GrantFailure.RedirectMismatch);
        return new GrantResult(tokens, GrantFailure.None);
    }

    /// <summary>Swaps a refresh token for a new pair; the old refresh token is spent.</summary>
    public async Task<GrantResult> RefreshAsync(string appId, string refreshToken, CancellationToken ct)
    {
        if (TokenPrefixes.KindOf(refreshToken) != TokenKind.Refresh || refreshToken.Length > 256)
            return GrantResult.Failed(GrantFailure.RefreshInvalid);
        var (pair, tokens) = NewPair(appId);
        var now = NowMs;
        var old = await _store.RotateRefreshTokenAsync(OpaqueSecrets.Hash(refreshToken), now, pair, ct);
        if (old is null) return GrantResult.Failed(GrantFailure.RefreshInvalid);
        if (old.AppId != appId) return GrantResult.Failed(GrantFailure.AppMismatch);
        if (old.ExpiresAt <= now) return GrantResult.Failed(GrantFailure.RefreshExpired);
        if (old.ResignedAt is not null) return GrantResult.Failed(GrantFailure.UserResigned);
        if (old.RevokedAt is not null) return GrantResult.Failed(GrantFailure.RefreshInvalid);
        return new GrantResult(tokens, GrantFailure.None);
    }

    /// <summary>Callers and apps, when they are cached at all.</summary>
    public TouchedKinds Holds => _options.TokenCacheSeconds > 0 ? StandingKinds : TouchedKinds.None;

    private const TouchedKinds StandingKinds = TouchedKinds.Users | TouchedKinds.Apps | TouchedKinds.Tokens;

    /// <summary>
    /// A change of standing (resigned, no longer admin, app deleted, tokens revoked) committed: every cached caller and
    /// app goes, so it applies to the next request. Rare operator writes: forgetting all costs less than tracking whom.
    /// </summary>
    public void Committed(in Touched touched)
    {
        if ((touched.Kinds & StandingKinds) == 0) return;
        lock (_gate)
        {
            _forgets++;
            _callers.Clear();
            _apps.Clear();
        }
    }

    /// <summary>
    /// Drops cache entries past their time (the sweeper calls it every minute), so a token or secret used once is not
    /// kept in memory long after it could be served from the cache. Returns how many went.
    /// </summary>
    public int ForgetExpired()
    {
        var now = NowMs;
        var removed = 0;
        foreach (var (token, cached) in _callers)
            if (cached.CachedUntilMs <= now && _callers.TryRemove(KeyValuePair.Create(token, cached))) removed++;
        foreach (var (appId, cached) in _apps)
            if (cached.CachedUntilMs <= now && _apps.TryRemove(KeyValuePair.Create(appId, cached))) removed++;
        return removed;
    }

    private (IssuedPair Pair, IssuedUserTokens Tokens) NewPair(string appId)
    {
        var access = OpaqueSecrets.NewToken(TokenKind.User);
        var refresh = OpaqueSecrets.NewToken(TokenKind.Refresh);
        var now = NowMs;
        var pair = new IssuedPair(OpaqueSecrets.Hash(access), OpaqueSecrets.Hash(refresh), appId, "", "",
            now + _options.AccessTokenLifetimeSeconds * 1000L, now + _options.RefreshTokenLifetimeSeconds * 1000L);
        var tokens = new IssuedUserTokens(access, _options.AccessTokenLifetimeSeconds, refresh,
            _options.RefreshTokenLifetimeSeconds, string.Join(' ', Scopes.Default));
        return (pair, tokens);
    }

    private static FeishuError InvalidFor(TokenKind? kind) => kind switch
    {
        TokenKind.User => FeishuErrors.InvalidUserAccessToken,
        TokenKind.App => FeishuErrors.InvalidAppAccessToken,
        _ => FeishuErrors.InvalidTenantAccessToken,
    };

    private static FeishuError ExpiredFor(TokenKind kind) =>
        kind == TokenKind.User ? FeishuErrors.UserAccessTokenExpired : InvalidFor(kind);
}

/// <summary>
/// An existing app named by a token request, the secret presented for it and its own (UTF-8). Not a record: a record's
/// generated ToString would print both secrets into whatever logged it.
/// </summary>
public readonly struct PresentedApp(AppRecord app, string presentedSecret, byte[] secret)
{
    public AppRecord App { get; } = app;
    public string PresentedSecret { get; } = presentedSecret;
    public byte[] Secret { get; } = secret;
}
