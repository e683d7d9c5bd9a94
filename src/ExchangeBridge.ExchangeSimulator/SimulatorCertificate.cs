using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBridge.ExchangeSimulator;

/// <summary>
/// A throw-away TLS certificate for the simulator's HTTPS listener. Graph clients need HTTPS (MSAL refuses an http
/// authority), so tests serve the Graph routes over TLS and trust exactly this certificate, nothing else.
/// </summary>
public static class SimulatorCertificate
{
    public static X509Certificate2 Create()
    {
        using var key = RSA.Create(2048);
        var request = Request("CN=ExchangeBridge simulator", key);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7));
    }

    /// <summary>
    /// A throw-away RSA certificate with its private key, for a Graph app registration's certificate credential: the
    /// simulator registers it (<see cref="MailboxStore.AddGraphApp(string, string, X509Certificate2, IEnumerable{string}?)"/>)
    /// and the admin account holds it as PEM (<see cref="ToPemWithKey"/>).
    /// </summary>
    public static X509Certificate2 CreateClientCertificate()
    {
        using var key = RSA.Create(2048);
        return Request("CN=ExchangeBridge import app", key).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7));
    }

    /// <summary>The certificate followed by its private key (PKCS#8), in PEM: what an operator hands over as client_certificate.</summary>
    public static string ToPemWithKey(X509Certificate2 certificate)
    {
        using var key = certificate.GetRSAPrivateKey() ?? throw new ArgumentException("the certificate has no RSA private key", nameof(certificate));
        return certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    private static CertificateRequest Request(string subject, RSA key) =>
        new(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>A handler that accepts the given certificate (by thumbprint) and refuses any other.</summary>
    public static SocketsHttpHandler TrustOnly(X509Certificate2 certificate) => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, presented, _, _) =>
                presented is not null && presented.GetCertHashString() == certificate.GetCertHashString(),
        },
    };
}
