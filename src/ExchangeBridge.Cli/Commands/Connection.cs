using System.CommandLine;
using ExchangeBridge.Client;

namespace ExchangeBridge.Cli.Commands;

/// <summary>A problem with how exbridge was called or configured: said in one line, exit code 2, nothing sent.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Where the server is and who exbridge is there: options on any command, each with an environment variable behind it
/// (an option wins). Secrets are never given defaults, so help never prints them.
/// </summary>
internal sealed class Connection
{
    // First: the options below register their variables here as they are made.
    private static readonly Dictionary<Option, string> EnvironmentVariables = [];

    public static readonly Option<string?> BaseUrl = Global("--base-url", "EXBRIDGE_BASE_URL",
        "The server: a self-hosted ExchangeBridge (http://127.0.0.1:8080) or https://open.feishu.cn (the default)");
    public static readonly Option<string?> AppId = Global("--app-id", "EXBRIDGE_APP_ID", "The self-built app's id (cli_…)");
    public static readonly Option<string?> AppSecret = Global("--app-secret", "EXBRIDGE_APP_SECRET", "The app's secret");
    public static readonly Option<string?> UserAccessToken = Global("--user-access-token", "EXBRIDGE_USER_ACCESS_TOKEN",
        "A super administrator's user access token (binding needs one)");
    public static readonly Option<string?> UserRefreshToken = Global("--user-refresh-token", "EXBRIDGE_USER_REFRESH_TOKEN",
        "Its refresh token: the token is refreshed when it expires");
    public static readonly Option<string?> OperatorKey = Global("--operator-key", "EXBRIDGE_OPERATOR_KEY",
        "A self-hosted ExchangeBridge's operator key (bootstrap.json): operator commands, and with --open-id a user token without a login page");
    public static readonly Option<string?> OpenId = Global("--open-id", "EXBRIDGE_OPEN_ID",
        "With --operator-key: the open_id (for --app-id) of the super administrator to act as; codes mint: the user to mint for");

    public static IEnumerable<Option> All => [BaseUrl, AppId, AppSecret, UserAccessToken, UserRefreshToken, OperatorKey, OpenId];

    private static Option<string?> Global(string name, string environmentVariable, string description)
    {
        var option = new Option<string?>(name)
        {
            Description = $"{description} [env: {environmentVariable}]",
            Recursive = true,
            HelpName = name.TrimStart('-').Replace('-', '_'),
        };
        EnvironmentVariables[option] = environmentVariable;
        return option;
    }

    private readonly ParseResult _parse;

    public Connection(ParseResult parse) => _parse = parse;

    private string? Value(Option<string?> option)
    {
        var given = _parse.GetValue(option);
        if (!string.IsNullOrWhiteSpace(given)) return given.Trim();
        return Environment.GetEnvironmentVariable(EnvironmentVariables[option]) is { Length: > 0 } fromEnvironment ? fromEnvironment.Trim() : null;
    }

    public Uri BaseAddress
    {
        get
        {
            var text = Value(BaseUrl) ?? "https://open.feishu.cn";
            return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : throw new UsageException($"--base-url '{text}' is not an http(s) URL");
        }
    }

    public string? AppIdValue => Value(AppId);
    public string? OpenIdValue => Value(OpenId);
    public bool HasOperatorKey => Value(OperatorKey) is not null;

    public FeishuClientOptions Options(Action<FeishuRetryInfo>? retrying = null, int maxRetries = 6)
    {
        var options = new FeishuClientOptions
        {
            BaseAddress = BaseAddress,
            AppId = Value(AppId),
            AppSecret = Value(AppSecret),
            UserAccessToken = Value(UserAccessToken),
            UserRefreshToken = Value(UserRefreshToken),
            Retrying = retrying,
        };
        options.Retry.MaxRetries = maxRetries;
        return options;
    }

    public ExchangeBridgeOperatorClient OperatorClient()
    {
        var key = Value(OperatorKey) ?? throw new UsageException("operator commands need --operator-key (or EXBRIDGE_OPERATOR_KEY)");
        return new ExchangeBridgeOperatorClient(key, Options());
    }

    /// <summary>
    /// A client acting as a super administrator: with the user token given, or, on a self-hosted ExchangeBridge, with one
    /// obtained through the operator API (a code minted for --open-id, redeemed as the app).
    /// </summary>
    public async Task<FeishuClient> UserClientAsync(CancellationToken ct, Action<FeishuRetryInfo>? retrying = null, int maxRetries = 6)
    {
        var options = Options(retrying, maxRetries);
        if (options.UserAccessToken is not null) return new FeishuClient(options);
        if (Value(OperatorKey) is null || OpenIdValue is null)
            throw new UsageException("this command needs a super administrator's user token: --user-access-token " +
                                     "(EXBRIDGE_USER_ACCESS_TOKEN), or on ExchangeBridge --operator-key with --open-id");
        if (options.AppId is null || options.AppSecret is null)
            throw new UsageException("a user token needs the app: --app-id and --app-secret (EXBRIDGE_APP_ID, EXBRIDGE_APP_SECRET)");
        using var operatorClient = OperatorClient();
        var code = await operatorClient.MintAuthorizationCodeAsync(new MintAuthorizationCodeRequest(options.AppId, OpenIdValue), ct);
        var client = new FeishuClient(options);
        try
        {
            await client.ExchangeAuthorizationCodeAsync(code.Code, ct);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}
