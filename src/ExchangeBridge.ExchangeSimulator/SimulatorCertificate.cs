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
        var request = new CertificateRequest("CN=ExchangeBridge simulator", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7));
    }

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
