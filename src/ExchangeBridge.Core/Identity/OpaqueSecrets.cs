using System.Security.Cryptography;
using System.Text;

namespace ExchangeBridge.Core.Identity;

/// <summary>
/// Opaque, unguessable credentials (tokens, authorization codes, app secrets, operator keys) and the hashes they
/// are stored under. 32 random bytes each; only the SHA-256 of a token reaches the database.
/// </summary>
public static class OpaqueSecrets
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>A random string of <paramref name="length"/> letters and digits (about 5.95 bits each).</summary>
    public static string NewAlphanumeric(int length) => RandomNumberGenerator.GetString(Alphabet, length);

    public static string NewToken(TokenKind kind) => TokenPrefixes.For(kind) + NewAlphanumeric(43);

    public static string NewHex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>Lower-case hex SHA-256: the lookup key a token or code is stored under.</summary>
    public static string Hash(string secret)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(secret), digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>Compares two secrets in time independent of where they differ.</summary>
    public static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
