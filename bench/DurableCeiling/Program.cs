using System.Text.Json;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Bench.DurableCeiling;

/// <summary>
/// The durable-write ceiling (bench/README.md): a POST with a create's body commits the rows a create commits — the
/// binding and its import job, through <see cref="BindingStore.InsertWithImportJobAsync"/> on the server's own
/// <see cref="SqliteDatabase"/> (same schema, pragmas, synchronous level, group commit and background checkpoints) —
/// and is answered with a create's bytes after the commit. No routing, authentication, rate limits or reads: what is
/// left of a create when everything but its durable write is taken away.
/// Usage: <c>dotnet ExchangeBridge.Bench.DurableCeiling.dll --urls http://127.0.0.1:PORT --data-dir DIR</c>.
/// </summary>
internal static class DurableCeiling
{
    private const string TenantKey = "bench-durable-ceiling";

    private static async Task Main(string[] args)
    {
        var dataDirAt = Array.IndexOf(args, "--data-dir");
        if (dataDirAt < 0 || dataDirAt + 1 >= args.Length) throw new ArgumentException("--data-dir DIR is required");
        var dataDir = Directory.CreateDirectory(args[dataDirAt + 1]).FullName;

        await using var database = new SqliteDatabase(Path.Combine(dataDir, "exchangebridge.db"));
        await Migrator.MigrateAsync(database);
        await database.WriteAsync(Touched.Nothing, (c, tx, ct) => c.ExecuteAsync(tx, InsertTenant,
            [("tenantKey", TenantKey), ("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())], ct));
        var bindings = new BindingStore(database);

        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.Run(context => CreateAsync(context, bindings));
        await app.RunAsync();
    }

    private static readonly PreparedStatement InsertTenant = new(
        "INSERT INTO tenants (tenant_key, name, created_at) VALUES (@tenantKey, 'bench', @now) ON CONFLICT DO NOTHING");

    private static async Task CreateAsync(HttpContext context, BindingStore bindings)
    {
        var body = await JsonSerializer.DeserializeAsync(context.Request.Body, CreateBodyContext.Default.CreateBody, context.RequestAborted)
                   ?? throw new InvalidOperationException("no body");
        var adminKey = EmailAddress.Normalize(body.AdminAccount);
        var exchangeKey = EmailAddress.Normalize(body.ExchangeAccount);
        var bindingId = ExchangeBindingId.Encode(adminKey, exchangeKey);
        var status = BindingStatus.Doing.ToWire();
        await bindings.InsertWithImportJobAsync(bindingId, TenantKey, body.AdminAccount.Trim(), body.ExchangeAccount.Trim(), exchangeKey,
            body.UserId, status, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), context.RequestAborted);
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body,
            new CreateAnswer(0, "success", new CreateAnswerData(body.AdminAccount, body.ExchangeAccount, body.UserId, status, bindingId)),
            CreateBodyContext.Default.CreateAnswer, context.RequestAborted);
    }
}

internal sealed record CreateBody(string AdminAccount, string ExchangeAccount, string UserId);
internal sealed record CreateAnswerData(string AdminAccount, string ExchangeAccount, string UserId, string Status, string ExchangeBindingId);
internal sealed record CreateAnswer(int Code, string Msg, CreateAnswerData Data);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(CreateBody))]
[System.Text.Json.Serialization.JsonSerializable(typeof(CreateAnswer))]
internal sealed partial class CreateBodyContext : System.Text.Json.Serialization.JsonSerializerContext;
