using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Storage;

/// <summary>
/// Every column of a stored row comes back in its own field, through the prepared (hot-path) read and the Dapper one
/// alike. Each field holds a value no other field holds, so a column read or written in another's place shows.
/// </summary>
public sealed class StoredColumnsTests() : ServerTests(new TestServer())
{

    [Fact]
    public async Task An_admin_account_reads_back_field_for_field_through_both_readers()
    {
        var stored = new AdminAccountRecord
        {
            Email = "columns@contoso.com",
            TenantKey = Server.Bootstrap.TenantKey,
            Connector = "graph",
            Endpoint = "https://graph.invalid/v1.0",
            Username = "the-username",
            SecretProtected = "the-protected-secret",
            CredentialKind = "certificate",
            GraphTenantId = "the-graph-tenant",
            GraphClientId = "the-graph-client",
            VerificationState = "pending",
            VerificationError = "the-verification-error",
            AllowCleartextPassword = true,
        };
        var admin = Server.Services.GetRequiredService<AdminStore>();
        Assert.True(await admin.UpsertAdminAccountAsync(stored, 1, CancellationToken.None));

        var prepared = await Server.Services.GetRequiredService<BindingStore>().FindAdminAccountAsync(stored.Email, CancellationToken.None);
        var mapped = await admin.FindAdminAccountAsync(stored.TenantKey, stored.Email, CancellationToken.None);
        Assert.Equivalent(stored, prepared, strict: true);
        Assert.Equivalent(stored, mapped, strict: true);
    }
}
