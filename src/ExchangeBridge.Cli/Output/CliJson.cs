using System.Text.Json.Serialization;
using ExchangeBridge.Client;

namespace ExchangeBridge.Cli.Output;

/// <summary>One binding's state as <c>status</c> reports it: the status, or why it could not be read.</summary>
/// <remarks>With the operator key and the tenant, also why it is err or late: <see cref="Sync"/> (null otherwise).</remarks>
internal sealed record BindingStatusRow(string ExchangeBindingId, string? ExchangeAccount, string? UserId, string? AdminAccount, string? Status,
    int? Code = null, string? Msg = null, BindingDiagnostics? Sync = null)
{
    [JsonIgnore]
    public bool IsSettled => Status is ExchangeBindingStatus.Done or ExchangeBindingStatus.Err || Code is not null;
}

/// <summary>What exbridge prints as JSON: the wire's snake_case, indented for people, nulls left out.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(IReadOnlyList<BindingStatusRow>))]
[JsonSerializable(typeof(Tenant))]
[JsonSerializable(typeof(IReadOnlyList<Tenant>))]
[JsonSerializable(typeof(CreatedApp))]
[JsonSerializable(typeof(OperatorUser))]
[JsonSerializable(typeof(ExchangeAdminAccount))]
[JsonSerializable(typeof(AuthorizationCode))]
[JsonSerializable(typeof(BindingDiagnostics))]
[JsonSerializable(typeof(EventDelivery))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
