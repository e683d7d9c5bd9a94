using System.Xml.Linq;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>An XML document as the set of its element paths ("s:Envelope/s:Body/m:GetItem") and "path@attribute"s,
/// prefixes derived from namespaces, so two documents can be compared by shape.</summary>
internal static class XmlPaths
{
    private static readonly Dictionary<string, string> Prefixes = new()
    {
        ["http://schemas.xmlsoap.org/soap/envelope/"] = "s",
        ["http://schemas.microsoft.com/exchange/services/2006/messages"] = "m",
        ["http://schemas.microsoft.com/exchange/services/2006/types"] = "t",
    };

    public static HashSet<string> Of(string xml)
    {
        var document = XDocument.Parse(xml);
        var paths = new HashSet<string>();
        foreach (var element in document.Descendants())
        {
            var path = string.Join('/', element.AncestorsAndSelf().Reverse()
                .Select(e => $"{Prefixes.GetValueOrDefault(e.Name.NamespaceName, "?")}:{e.Name.LocalName}"));
            paths.Add(path);
            foreach (var attribute in element.Attributes().Where(a => !a.IsNamespaceDeclaration)) paths.Add($"{path}@{attribute.Name.LocalName}");
        }
        return paths;
    }

    /// <summary>A documented sample, its SOAP namespace normalised from the docs' https artefact to http.</summary>
    public static string Sample(string file) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", file))
            .Replace("https://schemas.xmlsoap.org/soap/envelope/", "http://schemas.xmlsoap.org/soap/envelope/");
}
