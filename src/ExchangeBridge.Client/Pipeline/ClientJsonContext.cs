using System.Text.Json.Serialization;

namespace ExchangeBridge.Client.Pipeline;

/// <summary>The platform's envelope: <c>{code, msg, data}</c>, and on a refusal <c>error.log_id</c>.</summary>
internal sealed record Envelope<T>(int Code, string? Msg, T? Data, WireError? Error);

internal sealed record WireError(string? LogId);

/// <summary>A refusal read without its data, whatever shape the data has.</summary>
internal sealed record EnvelopeProbe(int? Code, string? Msg, WireError? Error);

/// <summary>The wire's JSON (snake_case, nulls left out), source-generated: no reflection, trimming- and AOT-safe.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EnvelopeProbe))]
[JsonSerializable(typeof(TenantAccessTokenResponse))]
[JsonSerializable(typeof(AppCredentials))]
[JsonSerializable(typeof(OidcCodeGrant))]
[JsonSerializable(typeof(OidcRefreshGrant))]
[JsonSerializable(typeof(Envelope<OidcTokenData>))]
[JsonSerializable(typeof(CreateExchangeBindingRequest))]
[JsonSerializable(typeof(Envelope<ExchangeBinding>))]
[JsonSerializable(typeof(Envelope<EmptyData>))]
[JsonSerializable(typeof(Envelope<CalendarPage>))]
[JsonSerializable(typeof(Envelope<EventPage>))]
[JsonSerializable(typeof(Envelope<InstanceViewData>))]
[JsonSerializable(typeof(FreeBusyListRequest))]
[JsonSerializable(typeof(FreeBusyBatchRequest))]
[JsonSerializable(typeof(Envelope<FreeBusyListData>))]
[JsonSerializable(typeof(Envelope<FreeBusyBatchData>))]
[JsonSerializable(typeof(CreateTenantRequest))]
[JsonSerializable(typeof(Envelope<Tenant>))]
[JsonSerializable(typeof(Envelope<TenantList>))]
[JsonSerializable(typeof(CreateAppRequest))]
[JsonSerializable(typeof(Envelope<CreatedApp>))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(Envelope<OperatorUser>))]
[JsonSerializable(typeof(ExchangeAdminAccountRequest))]
[JsonSerializable(typeof(Envelope<ExchangeAdminAccount>))]
[JsonSerializable(typeof(MintAuthorizationCodeRequest))]
[JsonSerializable(typeof(Envelope<AuthorizationCode>))]
[JsonSerializable(typeof(Envelope<BindingDiagnostics>))]
[JsonSerializable(typeof(RetryBindingsRequest))]
[JsonSerializable(typeof(Envelope<BindingsRetried>))]
[JsonSerializable(typeof(EventSettingsRequest))]
[JsonSerializable(typeof(Envelope<EventSettings>))]
[JsonSerializable(typeof(Envelope<EventDeliveryList>))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
