using ExchangeBridge.Core.Bindings;

namespace ExchangeBridge.Tests.Core;

[Trait("Database", "Independent")]
public sealed class EmailAddressTests
{
    [Theory]
    [InlineData("email_admin_example@outlook.com")]
    [InlineData("first.last+tag@sub.contoso.co.uk")]
    [InlineData("名字@例子.中国")]
    public void Accepts_addresses(string address) => Assert.True(EmailAddress.IsValid(address));

    [Theory]
    [InlineData("")]
    [InlineData("plain")]
    [InlineData("@contoso.com")]
    [InlineData("user@")]
    [InlineData("user@localhost")]
    [InlineData("a@b@c.com")]
    [InlineData("a b@c.com")]
    [InlineData("a@b..com")]
    [InlineData(".a@b.com")]
    [InlineData("a.@b.com")]
    [InlineData("a@b.com.")]
    [InlineData("a\u0000@b.com")]
    [InlineData("a\u200b@b.com")]
    [InlineData("<a@b.com>")]
    [InlineData("\"a\"@b.com")]
    public void Refuses_non_addresses(string address) => Assert.False(EmailAddress.IsValid(address));

    [Fact]
    public void Enforces_the_documented_500_characters()
    {
        var at500 = new string('a', 488) + "@outlook.com";
        Assert.Equal(500, at500.Length);
        Assert.True(EmailAddress.IsValid(at500));
        Assert.False(EmailAddress.IsValid("a" + at500));
    }
}
