using System.Net;
using System.Text.RegularExpressions;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Console;

/// <summary>
/// A browser's part in a console conversation, by hand: the cookies it keeps between requests and the antiforgery token
/// it posts back from each page's form. Requests come from one source address (the in-process host has no network).
/// </summary>
public sealed partial class ConsoleSession(TestServer server, IPAddress source) : IDisposable
{
    private readonly HttpClient _http = server.ClientFrom(source);
    private readonly Dictionary<string, string> _cookies = new(StringComparer.Ordinal);

    public ConsoleSession(TestServer server) : this(server, IPAddress.Loopback)
    {
    }

    /// <summary>The Set-Cookie headers of the last answer, as sent.</summary>
    public IReadOnlyList<string> LastSetCookies { get; private set; } = [];

    public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(new HttpRequestMessage(HttpMethod.Get, path));

    /// <summary>Posts a form; <paramref name="withTokenFrom"/> is the page whose form token goes with it (none: no token).</summary>
    public Task<HttpResponseMessage> PostAsync(string path, IReadOnlyDictionary<string, string> fields, string? withTokenFrom)
    {
        var form = new Dictionary<string, string>(fields);
        if (withTokenFrom is not null) form["__RequestVerificationToken"] = AntiforgeryToken(withTokenFrom);
        return SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) });
    }

    /// <summary>Reads the sign-in page and posts the key with its token, as the form does.</summary>
    public async Task<HttpResponseMessage> SignInAsync(string operatorKey, string signInPage = "/console/sign-in")
    {
        var page = await (await GetAsync(signInPage)).Content.ReadAsStringAsync();
        return await PostAsync(signInPage, new Dictionary<string, string> { ["OperatorKey"] = operatorKey }, page);
    }

    /// <summary>A page's body, asserting it was answered 200.</summary>
    public async Task<string> PageAsync(string path)
    {
        var response = await GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return body;
    }

    public static string AntiforgeryToken(string html) =>
        TokenField().Match(html) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("the page has no form token");

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        if (_cookies.Count > 0) request.Headers.Add("Cookie", string.Join("; ", _cookies.Select(c => $"{c.Key}={c.Value}")));
        var response = await _http.SendAsync(request);
        LastSetCookies = response.Headers.TryGetValues("Set-Cookie", out var set) ? set.ToList() : [];
        foreach (var cookie in LastSetCookies)
        {
            var pair = cookie.Split(';')[0];
            var (name, value) = (pair[..pair.IndexOf('=')], pair[(pair.IndexOf('=') + 1)..]);
            if (value.Length == 0 || cookie.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase)) _cookies.Remove(name);
            else _cookies[name] = value;
        }
        return response;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    public void Dispose() => _http.Dispose();
}
