using System.Text.Json;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.RateLimits;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ExchangeBridge.Server.Bindings;

/// <summary>POST, GET and DELETE /open-apis/calendar/v4/exchange_bindings, as the platform documents them.</summary>
public static class ExchangeBindingsApi
{
    /// <summary>Longest user id of any type we accept.</summary>
    public const int MaxUserIdLength = 128;

    public const string Path = "/open-apis/calendar/v4/exchange_bindings";
    public const string GetEndpointName = "GetExchangeBinding";
    public const string GetRateLimitName = "exchange_bindings.get";

    public static IEndpointRouteBuilder MapExchangeBindingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Path);
        group.MapPost("", CreateExchangeBinding).RequireAuthorization(Policies.CreateBinding).RateLimited("exchange_bindings.create")
            .WithName("CreateExchangeBinding").WithSummary("Bind an Exchange account to a Feishu user");
        // Catch-all: base64 ids may hold '/', which some SDKs send unescaped.
        group.MapGet("/{**exchange_binding_id}", GetExchangeBinding).RequireAuthorization(Policies.ReadBinding).RateLimited(GetRateLimitName)
            .WithName(GetEndpointName).WithSummary("A binding and its import status");
        group.MapDelete("/{**exchange_binding_id}", DeleteExchangeBinding).RequireAuthorization(Policies.DeleteBinding).RateLimited("exchange_bindings.delete")
            .WithName("DeleteExchangeBinding").WithSummary("Unbind, removing what was imported");
        return app;
    }

    public static async Task<FeishuJsonResult<Envelope<ExchangeBindingData>>> CreateExchangeBinding(
        HttpContext context, ExchangeBindingService bindings, CancellationToken ct)
    {
        var idType = UserIdTypes.Parse(SingleQueryValue(context, "user_id_type"));
        var command = await JsonBody.ReadObjectAsync(context.Request, FeishuErrors.InvalidParameters, ReadCreateCommand, ct);
        var data = await bindings.CreateAsync(Caller.Of(context), idType, command, ct);
        return FeishuJson.Result(Envelope.Success(data), FeishuJsonContext.Default.EnvelopeExchangeBindingData);
    }

    /// <summary>Answers from <see cref="BindingReadCache"/> when it can, and keeps what it read (see <see cref="CachedBindingReads"/>).</summary>
    public static async Task GetExchangeBinding(
        HttpContext context, string? exchange_binding_id, ExchangeBindingService bindings, BindingReadCache answers, CancellationToken ct)
    {
        var idType = UserIdTypes.Parse(SingleQueryValue(context, "user_id_type"));
        var caller = Caller.Of(context);
        var key = new BindingReadCache.Key(caller.TenantKey, caller.AppId, DecodeId(exchange_binding_id), idType);
        if (!answers.TryGet(key, out var answer))
        {
            var writesBeforeRead = answers.WritesSoFar;
            var found = await bindings.GetAsync(caller, idType, key.ExchangeBindingId, ct);
            answer = FeishuJson.Serialize(Envelope.Success(found.Data), FeishuJsonContext.Default.EnvelopeExchangeBindingData);
            answers.Keep(key, found.BindingKey, answer, writesBeforeRead);
        }
        await FeishuJson.WriteAsync(context.Response, answer, ct);
    }

    public static async Task<FeishuJsonResult<Envelope<EmptyData>>> DeleteExchangeBinding(
        HttpContext context, string? exchange_binding_id, ExchangeBindingService bindings, CancellationToken ct)
    {
        await bindings.DeleteAsync(Caller.Of(context), DecodeId(exchange_binding_id), ct);
        return FeishuJson.Result(Envelope.Success(new EmptyData()), FeishuJsonContext.Default.EnvelopeEmptyData);
    }

    private static CreateBindingCommand ReadCreateCommand(JsonElement body)
    {
        var invalid = FeishuErrors.InvalidParameters;
        var admin = JsonBody.RequiredString(body, "admin_account", invalid);
        var exchange = JsonBody.RequiredString(body, "exchange_account", invalid);
        var userId = JsonBody.RequiredString(body, "user_id", invalid);
        foreach (var (name, value) in new[] { ("admin_account", admin), ("exchange_account", exchange) })
        {
            if (value.Length > EmailAddress.MaxLength)
                throw FeishuException.InvalidParameter($"{name} must be at most {EmailAddress.MaxLength} characters");
            if (!EmailAddress.IsValid(value.Trim())) throw FeishuException.InvalidParameter($"{name} is not an email address");
        }
        if (userId.Length > MaxUserIdLength || userId.Any(char.IsControl))
            throw FeishuException.InvalidParameter("user_id is malformed");
        return new CreateBindingCommand(admin, exchange, userId);
    }

    /// <summary>A query value given at most once; a repeated one is ambiguous and refused.</summary>
    private static string? SingleQueryValue(HttpContext context, string name)
    {
        var values = context.Request.Query[name];
        if (values.Count > 1) throw FeishuException.InvalidParameter($"{name} is given more than once");
        return values.Count == 1 ? values[0] : null;
    }

    /// <summary>
    /// The route value with the one escape the server leaves in paths (%2F) undone; '+' stays '+', as base64 means it.
    /// </summary>
    private static string DecodeId(string? routeValue) =>
        string.IsNullOrEmpty(routeValue) ? "" : routeValue.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
}
