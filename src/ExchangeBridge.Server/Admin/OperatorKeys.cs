using System.Security.Cryptography;
using System.Text;
using Dapper;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Admin;

/// <summary>
/// Whether a presented operator key is one of this deployment's: the operator API's bearer and the console's sign-in
/// both ask here. Keys are stored only as SHA-256; the presented key's hash is compared with every stored one in
/// constant time (there are a handful), so neither the key nor how much of its hash matched shows in the time taken.
/// </summary>
public sealed class OperatorKeys(IDatabase database)
{
    /// <summary>Longer than any key we issue by far; a longer one is refused before it is hashed.</summary>
    public const int MaxKeyLength = 256;

    public async Task<bool> IsKnownAsync(string presented, CancellationToken ct)
    {
        if (presented.Length is 0 or > MaxKeyLength) return false;
        var hash = Encoding.ASCII.GetBytes(OpaqueSecrets.Hash(presented));
        await using var c = await database.OpenAsync(ct);
        var stored = await c.QueryAsync<string>(new CommandDefinition("SELECT key_hash FROM operator_keys", cancellationToken: ct));
        var known = false;
        foreach (var candidate in stored)
            known |= CryptographicOperations.FixedTimeEquals(hash, Encoding.ASCII.GetBytes(candidate));
        return known;
    }
}
