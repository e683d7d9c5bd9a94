using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Bindings;

/// <summary>A validated create request: both addresses well-formed, the user id non-empty.</summary>
public sealed record CreateBindingCommand(string AdminAccount, string ExchangeAccount, string UserId);

public sealed record ExchangeBindingData(
    string AdminAccount, string ExchangeAccount, string UserId, string Status, string ExchangeBindingId);

/// <summary>A binding as the API answers it, with the internal key its cached answers are filed under.</summary>
public sealed record FoundBinding(ExchangeBindingData Data, long BindingKey);

/// <summary>Creates, reads and removes bindings, with the page's refusals in the page's order.</summary>
public sealed class ExchangeBindingService(BindingStore store, IDatabase database, TimeProvider clock, Import.ImportWorker worker,
    Hosting.ExchangeBridgeMetrics metrics)
{
    public async Task<ExchangeBindingData> CreateAsync(Caller caller, UserIdType idType, CreateBindingCommand command,
        CancellationToken ct)
    {
        var adminKey = EmailAddress.Normalize(command.AdminAccount);
        var targets = await store.FindCreateTargetsAsync(caller.TenantKey, caller.AppId, idType, command.UserId, adminKey, ct);
        if (targets?.User is not { ResignedAt: null } target) throw new FeishuException(FeishuErrors.UserNotInTenant);
        if (targets.AdminTenantKey is null) throw new FeishuException(FeishuErrors.AdminAccountNotFound);
        if (targets.AdminTenantKey != caller.TenantKey) throw new FeishuException(FeishuErrors.TenantMismatch);
        if (targets.AdminVerificationState == AdminAccountStates.Failed) throw new FeishuException(FeishuErrors.AdminAccountBindingFailed);

        var exchangeKey = EmailAddress.Normalize(command.ExchangeAccount);
        var bindingId = ExchangeBindingId.Encode(adminKey, exchangeKey);
        try
        {
            await store.InsertWithImportJobAsync(bindingId, caller.TenantKey, command.AdminAccount.Trim(),
                command.ExchangeAccount.Trim(), exchangeKey, target.UserId, BindingStatus.Doing.ToWire(),
                clock.GetUtcNow().ToUnixTimeMilliseconds(), ct);
            worker.Wake();
            metrics.BindingCreated();
            return new ExchangeBindingData(command.AdminAccount.Trim(), command.ExchangeAccount.Trim(),
                target.IdOfType(idType), BindingStatus.Doing.ToWire(), bindingId);
        }
        catch (Exception e) when (database.IsUniqueViolation(e))
        {
            // Already bound (perhaps by a racing request): the same binding again is answered as it stands.
            var holders = await store.FindHoldersAsync(caller.TenantKey, caller.AppId, exchangeKey, target.UserId, ct);
            var same = holders.FirstOrDefault(h => h.ExchangeBindingId == bindingId && h.UserId == target.UserId);
            if (same is not null) return ToData(await RestartIfErrAsync(same, ct), idType);
            if (holders.Any(h => h.ExchangeAccountKey == exchangeKey))
                throw FeishuException.InvalidParameter(holders.Any(h => h.ExchangeAccountKey == exchangeKey && h.UserId == target.UserId)
                    ? "exchange_account is already bound to this user through another admin_account"
                    : "exchange_account is already bound to another user");
            throw FeishuException.InvalidParameter("user_id is already bound to another exchange_account");
        }
    }

    public async Task<FoundBinding> GetAsync(Caller caller, UserIdType idType, string exchangeBindingId, CancellationToken ct)
    {
        EnsureWellFormed(exchangeBindingId);
        var binding = await store.FindAsync(caller.TenantKey, caller.AppId, exchangeBindingId, ct)
                      ?? throw new FeishuException(FeishuErrors.BindingNotFound);
        return new FoundBinding(ToData(binding, idType), binding.Id);
    }

    public Task DeleteAsync(Caller caller, string exchangeBindingId, CancellationToken ct) => DeleteAsync(caller.TenantKey, exchangeBindingId, ct);

    /// <summary>Unbinds in a tenant: the Open API's DELETE (the caller's tenant) and the operators' console (the tenant shown).</summary>
    public async Task DeleteAsync(string tenantKey, string exchangeBindingId, CancellationToken ct)
    {
        EnsureWellFormed(exchangeBindingId);
        if (!await store.DeleteAsync(tenantKey, exchangeBindingId, clock.GetUtcNow().ToUnixTimeMilliseconds(), ct))
            throw new FeishuException(FeishuErrors.BindingNotFound);
        worker.Wake();
        metrics.BindingDeleted();
    }

    /// <summary>Binding a triple in err again is asking for another try: its import starts over (keeping its ids) and it answers doing.</summary>
    private async Task<BindingRecord> RestartIfErrAsync(BindingRecord binding, CancellationToken ct)
    {
        if (binding.Status != BindingStatus.Err.ToWire() ||
            !await store.RestartErrAsync(binding.Id, clock.GetUtcNow().ToUnixTimeMilliseconds(), ct)) return binding;
        worker.Wake();
        binding.Status = BindingStatus.Doing.ToWire();
        return binding;
    }

    private static void EnsureWellFormed(string exchangeBindingId)
    {
        if (!ExchangeBindingId.TryDecode(exchangeBindingId, out _, out _))
            throw new FeishuException(FeishuErrors.BindingIdInvalid);
    }

    private static ExchangeBindingData ToData(BindingRecord b, UserIdType idType) =>
        new(b.AdminAccount, b.ExchangeAccount, b.User.IdOfType(idType), b.Status, b.ExchangeBindingId);
}

public static class AdminAccountStates
{
    public const string Verified = "verified";
    public const string Failed = "failed";
    public const string Pending = "pending";
}
