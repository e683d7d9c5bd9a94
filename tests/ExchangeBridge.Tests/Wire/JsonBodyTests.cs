using ExchangeBridge.Core.Errors;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Http;

namespace ExchangeBridge.Tests.Wire;

[Trait("Database", "Independent")]
public sealed class JsonBodyTests
{
    /// <summary>A body Kestrel gives up on while it is read (as with a client under MinRequestBodyDataRate).</summary>
    private sealed class RefusedBody(int statusCode) : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new BadHttpRequestException("Reading the request body timed out due to data arriving too slowly. See MinRequestBodyDataRate.", statusCode);
    }

    private static HttpRequest Request(Stream body)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Request.Body = body;
        return context.Request;
    }

    [Theory]
    [InlineData(408, "request body could not be read")]
    [InlineData(413, "request body too large")]
    public async Task A_body_Kestrel_refuses_is_the_endpoints_own_refusal_without_Kestrels_text(int status, string message)
    {
        // The token endpoint's family: 10003, not the calendar's 190002.
        var refusal = await Assert.ThrowsAsync<FeishuException>(() =>
            JsonBody.ReadObjectAsync(Request(new RefusedBody(status)), FeishuErrors.TokenInvalidParam, _ => 0, CancellationToken.None));

        Assert.Equal(FeishuErrors.TokenInvalidParam, refusal.Error);
        Assert.Equal(message, refusal.Detail);
    }
}
