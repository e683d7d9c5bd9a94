using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Graph;
using ExchangeBridge.Server.Bindings;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Admin;

/// <summary>
/// Checks a registered Exchange admin account against its endpoint through its connector (keyed by "ews" or
/// "graph"). A failed check is what makes a later create answer 195105.
/// </summary>
public sealed class AdminAccountVerifier(IServiceProvider services, SecretProtector protector)
{
    public async Task<(string State, string? Error)> VerifyAsync(AdminAccountRecord account, CancellationToken ct)
    {
        if (!AdminAccounts.TryParseConnector(account.Connector, out var kind) ||
            services.GetKeyedService<IExchangeConnector>(kind) is not { } connector)
            return (AdminAccountStates.Failed, $"connector '{account.Connector}' is not available");
        try
        {
            await connector.VerifyAdminAsync(AdminAccounts.ToConnectorAccount(account, protector), ct);
            return (AdminAccountStates.Verified, null);
        }
        catch (ExchangeConnectorException e)
        {
            return (AdminAccountStates.Failed, $"{e.Kind}: {e.Message}");
        }
        catch (HttpRequestException e)
        {
            return (AdminAccountStates.Failed, $"endpoint unreachable: {e.Message}");
        }
    }
}

public static class AdminAccounts
{
    public const string Ews = "ews";
    public const string Graph = "graph";

    /// <summary>Credential kinds: a password or client secret; a Graph app's certificate with its private key (PEM).</summary>
    public const string SecretCredential = "secret";
    public const string CertificateCredential = "certificate";

    public const string CleartextRefusal =
        "the endpoint is plain http://, which would send the admin password in clear: use https://, " +
        "or register the account with allow_cleartext_password: true to accept that risk";

    public static bool TryParseConnector(string name, out ExchangeConnectorKind kind)
    {
        kind = name == Graph ? ExchangeConnectorKind.Graph : ExchangeConnectorKind.Ews;
        return name is Ews or Graph;
    }

    /// <summary>
    /// What a connector needs, with the secret decrypted for the duration of the call. An EWS password bound for a plain
    /// http:// endpoint is refused unless the operator accepted that explicitly (allow_cleartext_password): Basic
    /// authentication would send it in clear. Every use of an account passes here (verifying it, importing with it), so an
    /// account registered before this rule is refused too.
    /// </summary>
    public static ExchangeAdminAccount ToConnectorAccount(AdminAccountRecord account, SecretProtector protector)
    {
        TryParseConnector(account.Connector, out var kind);
        if (kind == ExchangeConnectorKind.Ews && account.CredentialKind == SecretCredential && !account.AllowCleartextPassword &&
            Uri.TryCreate(account.Endpoint, UriKind.Absolute, out var endpoint) && endpoint.Scheme == Uri.UriSchemeHttp)
            throw new ExchangeConnectorException(ExchangeFailureKind.Unauthorized, CleartextRefusal);
        return new ExchangeAdminAccount(account.Email, kind, new Uri(account.Endpoint), account.Username,
            protector.Unprotect(account.SecretProtected), account.GraphTenantId, account.GraphClientId,
            account.CredentialKind == CertificateCredential ? AdminCredentialKind.Certificate : AdminCredentialKind.Secret);
    }

    /// <summary>Whether <paramref name="pem"/> is a certificate with its private key that the Graph connector can sign with.</summary>
    public static bool IsUsableCertificate(string pem)
    {
        try
        {
            GraphCertificates.FromPem(pem).Dispose();
            return true;
        }
        catch (ExchangeConnectorException)
        {
            return false;
        }
    }
}
