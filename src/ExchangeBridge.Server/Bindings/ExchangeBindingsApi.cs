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

    private const string BindingIdRouteValue = "exchange_binding_id";

    public static IEndpointRouteBuilder MapExchangeBindingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Path);
        group.MapPost("", CreateExchangeBinding).RequireAuthorization(Policies.CreateBinding).RateLimited("exchange_bindings.create")
            .WithName("CreateExchangeBinding").WithSummary("Bind an Exchange account to a Feishu user");
        // Catch-all: base64 ids may hold '/', which some SDKs send unescaped. The most frequent call is mapped as a plain
        // RequestDelegate with its services at hand: the same route, metadata and filters (the framework builds a binder
        // around it only when a filter is added), without a generated binder resolving them for every request.
        var bindings = app.ServiceProvider.GetRequiredService<ExchangeBindingService>();
        var answers = app.ServiceProvider.GetRequiredService<BindingReadCache>();
        group.MapGet("/{**exchange_binding_id}", context => GetExchangeBinding(
                context, context.Request.RouteValues[BindingIdRouteValue] as string, bindings, answers, context.RequestAborted))
            .RequireAuthorization(Policies.ReadBinding).RateLimited("exchange_bindings.get")
            .WithName("GetExchangeBinding").WithSummary("A binding and its import status");
        group.MapDelete("/{**exchange_binding_id}", DeleteExchangeBinding).RequireAuthorization(Policies.DeleteBinding).RateLimited("exchange_bindings.delete")
            .WithName("DeleteExchangeBinding").WithSummary("Unbind, removing what was imported");
        return app;
    }

    public static async Task<FeishuJsonResult<Envelope<ExchangeBindingData>>> CreateExchangeBinding(
        HttpContext context, ExchangeBindingService bindings, CancellationToken ct)
    {
        var idType = UserIdTypeOf(context.Request);
        var command = await JsonBody.ReadObjectAsync(context.Request, FeishuErrors.InvalidParameters, ReadCreateCommand, ct);
        var data = await bindings.CreateAsync(Caller.Of(context), idType, command, ct);
        return FeishuJson.Result(Envelope.Success(data), FeishuJsonContext.Default.EnvelopeExchangeBindingData);
    }

    /// <summary>
    /// Runs after routing, authentication, authorisation and the rate limits, like every endpoint; its own steps are cheap
    /// enough that a repeated read needs no lane beside it:
    /// 1. the request, read as every binding endpoint reads it;
    /// 2. the answer kept from an earlier read (<see cref="BindingReadCache"/>), if any;
    /// 3. else the database, and the answer kept for next time.
    /// </summary>
    public static async Task GetExchangeBinding(
        HttpContext context, string? exchange_binding_id, ExchangeBindingService bindings, BindingReadCache answers, CancellationToken ct)
    {
        var caller = Caller.Of(context);
        var key = new BindingReadCache.Key(caller.TenantKey, caller.AppId, DecodeId(exchange_binding_id), UserIdTypeOf(context.Request));
        if (!answers.TryGet(key, out var answer))
        {
            var writesBeforeRead = answers.WritesSoFar;
            var found = await bindings.GetAsync(caller, key.IdType, key.ExchangeBindingId, ct);
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

    /// <summary>
    /// The <c>user_id_type</c> the answer speaks (open_id when none is given); refused when given more than once, since
    /// a repeated value is ambiguous, or when it names no id type. A request with no query allocates nothing here.
    /// </summary>
    private static UserIdType UserIdTypeOf(HttpRequest request)
    {
        if (!request.QueryString.HasValue) return UserIdType.OpenId;
        var values = request.Query["user_id_type"];
        if (values.Count > 1) throw FeishuException.InvalidParameter("user_id_type is given more than once");
        return UserIdTypes.Parse(values.Count == 1 ? values[0] : null);
    }

    /// <summary>
    /// The route value with the one escape the server leaves in paths (%2F) undone; '+' stays '+', as base64 means it.
    /// An id without '%' (nearly every one) is taken as it is, without the slower case-blind search.
    /// </summary>
    private static string DecodeId(string? routeValue) =>
        string.IsNullOrEmpty(routeValue) ? "" :
        routeValue.Contains('%', StringComparison.Ordinal) ? routeValue.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase) : routeValue;
}
