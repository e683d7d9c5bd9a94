using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace ExchangeBridge.Core.Bindings;

/// <summary>
/// The public id of a binding: standard base64 of <c>admin_account + " " + exchange_account</c>, as the documented
/// example decodes. Both addresses are normalised (trimmed, lower-cased) first, so the id of a binding does not
/// depend on how a caller spelt its addresses.
/// </summary>
public static class ExchangeBindingId
{
    /// <summary>Longest id worth decoding: two 500-character addresses, a space, in UTF-8, base64-encoded.</summary>
    public const int MaxLength = 4 * ((2 * 500 * 4 + 1 + 2) / 3);

    public static string Encode(string adminAccount, string exchangeAccount)
    {
        var plain = EmailAddress.Normalize(adminAccount) + " " + EmailAddress.Normalize(exchangeAccount);
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(plain));
    }

    /// <summary>Decodes an id into its two addresses; false for anything that is not an id we could have made.</summary>
    public static bool TryDecode(string? id, out string adminAccount, out string exchangeAccount)
    {
        adminAccount = exchangeAccount = "";
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength || id.Length % 4 != 0) return false;

        var buffer = ArrayPool<byte>.Shared.Rent(Base64.GetMaxDecodedFromUtf8Length(id.Length));
        try
        {
            if (!Convert.TryFromBase64String(id, buffer, out var written)) return false;
            string plain;
            try { plain = new UTF8Encoding(false, true).GetString(buffer, 0, written); }
            catch (DecoderFallbackException) { return false; }

            var space = plain.IndexOf(' ');
            if (space <= 0 || space != plain.LastIndexOf(' ')) return false;
            var admin = plain[..space];
            var exchange = plain[(space + 1)..];
            if (!EmailAddress.IsValid(admin) || !EmailAddress.IsValid(exchange)) return false;
            // Only the canonical spelling is an id: anything else would alias an existing binding.
            if (Encode(admin, exchange) != id) return false;
            adminAccount = admin;
            exchangeAccount = exchange;
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
