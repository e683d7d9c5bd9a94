using System.Text;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Http;

namespace ExchangeBridge.Tests.Wire;

/// <summary>
/// The token endpoints' one-pass reader of a flat body answers exactly as the document the other endpoints read: the same
/// values, the same refusals, on bodies chosen where a reader and a document could part (repeated, escaped or broken
/// names, nesting, text after the object, bytes that are not UTF-8).
/// </summary>
[Trait("Database", "Independent")]
public sealed class JsonStringFieldsTests
{
    private static readonly JsonStringFields Credentials = new("app_id", "app_secret");
    private static readonly FeishuError Invalid = FeishuErrors.TokenInvalidParam;

    private static HttpRequest Request(byte[] body)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(body);
        return context.Request;
    }

    /// <summary>The values, or the refusal's text, as one string to compare.</summary>
    private static async Task<string> OutcomeAsync(Func<Task<string?[]>> read)
    {
        try
        {
            return string.Join(" | ", (await read()).Select(v => v ?? "(null)"));
        }
        catch (FeishuException e)
        {
            return $"refused {e.Error.Code}: {e.Detail}";
        }
    }

    private static Task<string> ByDocumentAsync(byte[] body) => OutcomeAsync(() => JsonBody.ReadObjectAsync(Request(body), Invalid,
        json => Credentials.Names.Select(name => JsonBody.OptionalString(json, name, Invalid)).ToArray(), CancellationToken.None));

    private static Task<string> ByFieldsAsync(byte[] body) =>
        OutcomeAsync(() => JsonBody.ReadStringsAsync(Request(body), Invalid, Credentials, CancellationToken.None));

    public static TheoryData<string, bool> Bodies => new()
    {
        // Flat: read in one pass.
        { """{"app_id":"cli_a","app_secret":"s3cret"}""", true },
        { """ { "app_secret" : "s" ,"app_id":"a" } """ + "\n", true },
        { """{"app_id":"a"}""", true },
        { """{}""", true },
        { """{"app_id":null,"app_secret":""}""", true },
        { """{"app_id":"\u00e9\"\\\u0001","other":1.5e3,"flag":true,"off":false,"none":null,"text":"x"}""", true },
        // Anything else: the document answers, refusals included.
        { """{"app_id":"a","app_id":"b"}""", false },
        { """{"x":1,"x":2,"app_id":"a"}""", false },
        { """{"app_id":"a","nested":{"b":1,"b":2}}""", false },
        { """{"app_id":"a","list":[1,{"c":2}]}""", false },
        { """{"app\u005fid":"escaped name"}""", false },
        { """{"app_id":"a","app\u005fid":"b"}""", false },
        { """{"app_id":5,"app_secret":"x"}""", false },
        { """{"app_id":"a","app_secret":true}""", false },
        { """{"app_id":"a"} trailing""", false },
        { """{"app_id":"a"}{}""", false },
        { """{"app_id":"a",}""", false },
        { """{"app_id":"a" /* comment */}""", false },
        { "{\"app_id\":\"a\u0001 a control character\"}", false },
        { """{"app_id":"a""", false },
        { """["app_id","a"]""", false },
        { "\"app_id\"", false },
        { "null", false },
        { "\uFEFF{\"app_id\":\"after a byte order mark\"}", false },
        { string.Concat(Enumerable.Repeat("{\"a\":", 20)) + "1" + new string('}', 20), false },
        { "{" + string.Join(",", Enumerable.Range(0, 20).Select(i => $"\"f{i}\":{i}")) + ",\"app_id\":\"many\"}", false },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_body_gets_the_documents_answer_and_only_a_flat_one_is_read_in_one_pass(string body, bool readInOnePass)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Equal(readInOnePass, Credentials.TryReadFlat(bytes, out _));
        Assert.Equal(await ByDocumentAsync(bytes), await ByFieldsAsync(bytes));
    }

    [Theory]
    [InlineData("{\"app_id\":\"", "\"}")] // a named field
    [InlineData("{\"app_id\":\"a\",\"other\":\"", "\"}")] // a field nobody reads
    [InlineData("{\"", "\":\"x\",\"app_id\":\"a\"}")] // a property name
    public async Task Bytes_that_are_not_UTF_8_get_the_documents_answer(string before, string after)
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes(before), 0xC3, 0x28, 0xFF, .. Encoding.UTF8.GetBytes(after)];
        Assert.Equal(await ByDocumentAsync(bytes), await ByFieldsAsync(bytes));
    }
}
