using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace ExchangeBridge.ExchangeSimulator;

/// <summary>
/// JSON batching as Microsoft documents it (learn.microsoft.com/graph/json-batching): <c>POST /v1.0/$batch</c> with
/// <c>{"requests":[{"id","method","url","headers"}]}</c>, 1..20 requests with unique ids (not case-sensitive) and relative
/// urls. A body that breaks these rules is refused whole with 400; a parseable one is answered 200 with
/// <c>{"responses":[{"id","status","headers","body"}]}</c>, each request served by the same handler as the single call
/// with the batch's bearer token, so authentication, the injected throttling (a 429 with Retry-After on that request
/// alone, as Graph evaluates each request of a batch against its limits) and the mailbox checks apply request by request.
/// The requests run one after the other in the order given. Request bodies and <c>dependsOn</c> are not modelled and refused.
/// </summary>
public static partial class GraphSimulator
{
    /// <summary>Graph's limit on the requests in one batch.</summary>
    public const int MaxBatchRequests = 20;

    private static async Task<IResult> BatchAsync(HttpContext context, MailboxStore store)
    {
        if (Caller(context, store) is null) return Unauthenticated(context);
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException)
        {
            return InvalidBatch("Invalid batch payload format.");
        }
        if (body is not JsonObject { } envelope || envelope["requests"] is not JsonArray { Count: > 0 } requests)
            return InvalidBatch("Invalid batch payload format: a 'requests' array with at least one request is required.");
        if (requests.Count > MaxBatchRequests)
            return InvalidBatch($"The batch has {requests.Count} requests; a batch may hold at most {MaxBatchRequests}.");

        var steps = new List<BatchStep>(requests.Count);
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var request in requests)
        {
            if (request is not JsonObject step || StringOf(step, "id") is not { Length: > 0 } id ||
                StringOf(step, "method") is not { Length: > 0 } method || StringOf(step, "url") is not { Length: > 0 } url)
                return InvalidBatch("Invalid batch payload format: each request needs an 'id', a 'method' and a 'url'.");
            if (!ids.Add(id)) return InvalidBatch($"Batch request ids must be unique: '{id}' occurs more than once.");
            if (url.Contains("://", StringComparison.Ordinal)) return InvalidBatch($"The url of request '{id}' must be relative to the version, as '/users'.");
            if (step.ContainsKey("body") || step.ContainsKey("dependsOn"))
                return InvalidBatch($"Request '{id}': request bodies and dependsOn are not modelled by the simulator.");
            var headers = new List<KeyValuePair<string, string>>();
            if (step["headers"] is JsonObject given)
                foreach (var (name, value) in given)
                {
                    if (value is not JsonValue text || !text.TryGetValue<string>(out var v)) return InvalidBatch($"Request '{id}': header values are strings.");
                    headers.Add(new(name, v));
                }
            else if (step["headers"] is not null) return InvalidBatch($"Request '{id}': 'headers' is an object.");
            steps.Add(new BatchStep(id, method, url, headers));
        }

        var responses = new JsonArray();
        foreach (var step in steps) responses.Add(await RunAsync(context, store, step));
        return Results.Json(new JsonObject { ["responses"] = responses });
    }

    /// <summary>One request of a batch, served as if it had come alone (same handler, same checks) and written as a response entry.</summary>
    private static async Task<JsonObject> RunAsync(HttpContext batch, MailboxStore store, BatchStep step)
    {
        var (path, query) = step.Url.IndexOf('?') is var q and >= 0 ? (step.Url[..q], step.Url[q..]) : (step.Url, "");
        var relative = PathString.FromUriComponent("/" + path.TrimStart('/'));
        var context = new DefaultHttpContext { RequestServices = batch.RequestServices };
        // The batch's lifetime: a request of it that hangs ends with the batch, one that drops the connection drops the batch's.
        context.Features.Set(batch.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestLifetimeFeature>());
        var request = context.Request;
        request.Method = step.Method.ToUpperInvariant();
        request.Scheme = batch.Request.Scheme;
        request.Host = batch.Request.Host;
        request.PathBase = batch.Request.PathBase;
        request.Path = new PathString($"/{Version}").Add(relative);
        request.QueryString = new QueryString(query);
        foreach (var (name, value) in step.Headers) request.Headers.Append(name, value);
        request.Headers.Authorization = batch.Request.Headers.Authorization;
        using var output = new MemoryStream();
        context.Response.Body = output;

        var route = Routes.Select(r => (Route: r, Values: new RouteValueDictionary())).FirstOrDefault(m => m.Route.Matcher.TryMatch(relative, m.Values));
        var result = route.Route is null
            ? Error(400, "BadRequest", $"Resource not found for the segment '{relative.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()}'.")
            : !HttpMethods.IsGet(request.Method)
                ? Error(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
                : route.Route.Handle(context, store, route.Values);
        await result.ExecuteAsync(context);

        var headers = new JsonObject();
        foreach (var (name, value) in context.Response.Headers) headers[name] = value.ToString();
        var entry = new JsonObject { ["id"] = step.Id, ["status"] = context.Response.StatusCode, ["headers"] = headers };
        if (output.Length > 0) entry["body"] = JsonNode.Parse(output.ToArray());
        return entry;
    }

    private static IResult InvalidBatch(string message) => Error(400, "BadRequest", message);

    private static string? StringOf(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string Text(this RouteValueDictionary values, string name) => values[name]?.ToString() ?? "";

    private sealed record BatchStep(string Id, string Method, string Url, List<KeyValuePair<string, string>> Headers);

    private delegate IResult GraphHandler(HttpContext context, MailboxStore store, RouteValueDictionary route);

    /// <summary>A resource path relative to the version (<c>users/{user}/events/{eventId}</c>) and what serves it.</summary>
    private sealed record GraphRoute(string Template, GraphHandler Handle)
    {
        public TemplateMatcher Matcher { get; } = new(TemplateParser.Parse(Template), new RouteValueDictionary());
    }
}
