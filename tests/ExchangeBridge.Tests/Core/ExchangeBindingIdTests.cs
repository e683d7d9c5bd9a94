using ExchangeBridge.Core.Bindings;

namespace ExchangeBridge.Tests.Core;

[Trait("Database", "Independent")]
public sealed class ExchangeBindingIdTests
{
    [Fact]
    public void Encodes_the_documented_example()
    {
        Assert.Equal("ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=",
            ExchangeBindingId.Encode("email_admin_example@outlook.com", "email_account_example@outlook.com"));
    }

    [Fact]
    public void Spelling_does_not_change_the_id()
    {
        Assert.Equal(ExchangeBindingId.Encode("a@b.com", "c@d.com"), ExchangeBindingId.Encode(" A@B.com", "C@d.COM "));
    }

    [Fact]
    public void Decodes_what_it_encodes()
    {
        var id = ExchangeBindingId.Encode("admin@contoso.com", "alisa@contoso.com");
        Assert.True(ExchangeBindingId.TryDecode(id, out var admin, out var account));
        Assert.Equal(("admin@contoso.com", "alisa@contoso.com"), (admin, account));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("YWJj")] // "abc"
    [InlineData("YUBiLmNvbQ==")] // one address
    [InlineData("YUBiLmNvbSAgY0BkLmNvbQ==")] // two spaces
    [InlineData("QUBCLkNPTSBDQEQuQ09N")] // upper case: not the canonical id
    [InlineData("/w==")] // not UTF-8
    public void Refuses_what_it_could_not_have_made(string? id)
    {
        Assert.False(ExchangeBindingId.TryDecode(id, out _, out _));
    }

    [Fact]
    public void Refuses_an_overlong_id_without_decoding_it()
    {
        Assert.False(ExchangeBindingId.TryDecode(new string('A', ExchangeBindingId.MaxLength + 4), out _, out _));
    }
}
