using System.Collections.Frozen;

namespace ExchangeBridge.Server.Console;

/// <summary>
/// The console's stylesheet and script, embedded in the server (Console/Assets): nothing is fetched from elsewhere, and
/// nothing depends on files beside the program.
/// </summary>
public static class ConsoleAssets
{
    private static readonly FrozenDictionary<string, (byte[] Bytes, string ContentType)> Assets = new Dictionary<string, (byte[], string)>
    {
        ["console.css"] = (Read("console.css"), "text/css; charset=utf-8"),
        ["live.js"] = (Read("live.js"), "text/javascript; charset=utf-8"),
    }.ToFrozenDictionary();

    public static IResult Serve(string name) =>
        Assets.TryGetValue(name, out var asset) ? Results.Bytes(asset.Bytes, asset.ContentType) : Results.NotFound();

    private static byte[] Read(string name)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream($"ExchangeBridge.Server.Console.Assets.{name}")
                           ?? throw new InvalidOperationException($"the console asset {name} is not embedded");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
