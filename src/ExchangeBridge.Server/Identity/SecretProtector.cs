using System.Security.Cryptography;
using System.Text;

namespace ExchangeBridge.Server.Identity;

/// <summary>
/// Encrypts secrets that must be read back (app secrets, Exchange credentials) before they reach the database:
/// AES-256-GCM under a master key that never enters the database (configuration, or a key file in the data
/// folder created with owner-only permissions). Stored form: "v1." + base64(nonce ‖ tag ‖ ciphertext).
/// </summary>
public sealed class SecretProtector
{
    private const string Version = "v1.";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SecretProtector(byte[] key)
    {
        if (key.Length != 32) throw new ArgumentException("The master key must be 32 bytes.", nameof(key));
        _key = key;
    }

    public string Protect(string secret)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        var output = new byte[NonceSize + TagSize + plain.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize));
        CryptographicOperations.ZeroMemory(plain);
        return Version + Convert.ToBase64String(output);
    }

    public string Unprotect(string protectedSecret)
    {
        if (!protectedSecret.StartsWith(Version, StringComparison.Ordinal))
            throw new CryptographicException("Unknown protected secret format.");
        var input = Convert.FromBase64String(protectedSecret[Version.Length..]);
        var plain = new byte[input.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize + TagSize), input.AsSpan(NonceSize, TagSize), plain);
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>The configured key (base64), else the data folder's key file, created on first use.</summary>
    public static SecretProtector FromConfiguration(string? configuredKey, string dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(configuredKey))
        {
            // Not base64 at all is the same mistake as the wrong length, and gets the same message.
            var key = new byte[32];
            if (!Convert.TryFromBase64String(configuredKey, key, out var length) || length != key.Length)
                throw new InvalidOperationException("ExchangeBridge:MasterKey must be 32 bytes, base64-encoded.");
            return new SecretProtector(key);
        }

        var path = Path.Combine(dataDirectory, "master.key");
        if (!File.Exists(path))
        {
            var fresh = RandomNumberGenerator.GetBytes(32);
            try
            {
                using var file = new FileStream(path, Hosting.DataFolder.OwnerOnly(FileMode.CreateNew, FileAccess.Write));
                file.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(fresh)));
                file.Flush(flushToDisk: true);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another instance on the same folder created it first: use theirs.
            }
        }
        return new SecretProtector(Convert.FromBase64String(File.ReadAllText(path).Trim()));
    }
}
