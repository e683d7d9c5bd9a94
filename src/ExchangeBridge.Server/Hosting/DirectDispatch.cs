using System.Collections.Frozen;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing.Patterns;

namespace ExchangeBridge.Server.Hosting;

/// <summary>
/// Sends a request for an endpoint that needs neither route values nor authorisation (the token endpoints, health)
/// straight to it, ahead of routing, authentication and authorisation, which would only find that out on every call
/// (together a few microseconds of the token endpoint's ~25). Endpoints opt in with <see cref="DispatchedBeforeRouting"/>;
/// every other request, and any other spelling of their paths (a trailing slash), goes through routing as before.
/// </summary>
public static class DirectDispatch
{
    internal sealed class Marker
    {
        public static readonly Marker Instance = new();
    }

    public static TBuilder DispatchedBeforeRouting<TBuilder>(this TBuilder endpoint) where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(Marker.Instance);

    public static IApplicationBuilder UseDirectDispatch(this IApplicationBuilder app)
    {
        // Endpoints exist once the application is built, so the table is made at the first request.
        FrozenDictionary<string, Endpoint>? posts = null, gets = null;
        return app.Use((context, next) =>
        {
            if (posts is null || gets is null) (posts, gets) = Build(app.ApplicationServices.GetRequiredService<EndpointDataSource>());
            var method = context.Request.Method;
            var table = HttpMethods.IsPost(method) ? posts : HttpMethods.IsGet(method) ? gets : null;
            if (table is null || context.Request.Path.Value is not { } path || !table.TryGetValue(path, out var endpoint)) return next(context);
            context.SetEndpoint(endpoint);
            return endpoint.RequestDelegate!(context);
        });
    }

    internal static (FrozenDictionary<string, Endpoint> Posts, FrozenDictionary<string, Endpoint> Gets) Build(EndpointDataSource source)
    {
        var posts = new Dictionary<string, Endpoint>(StringComparer.OrdinalIgnoreCase);
        var gets = new Dictionary<string, Endpoint>(StringComparer.OrdinalIgnoreCase);
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>().Where(e => e.Metadata.GetMetadata<Marker>() is not null))
        {
            // Each segment one literal; a parameter, catch-all or mixed segment leaves a null.
            var literals = endpoint.RoutePattern.PathSegments
                .Select(s => s is { IsSimple: true, Parts: [RoutePatternLiteralPart literal] } ? literal.Content : null).ToList();
            if (literals.Contains(null))
                throw new InvalidOperationException($"{endpoint.DisplayName}: only a fixed path can be dispatched before routing.");
            if (endpoint.Metadata.GetMetadata<IAuthorizeData>() is not null || endpoint.RequestDelegate is null)
                throw new InvalidOperationException($"{endpoint.DisplayName}: an endpoint that needs authorisation goes through the pipeline.");
            var path = "/" + string.Join('/', literals);
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            {
                if (HttpMethods.IsPost(method)) posts.Add(path, endpoint);
                else if (HttpMethods.IsGet(method)) gets.Add(path, endpoint);
                else throw new InvalidOperationException($"{endpoint.DisplayName}: only GET and POST are dispatched before routing.");
            }
        }
        return (posts.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), gets.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase));
    }
}
