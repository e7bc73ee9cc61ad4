using MultiModal.Gateway.OpenAi.ImageFetch;
using Xunit;

namespace MultiModal.Tests.Unit.Gateway;

public sealed class HostAllowListTests
{
    private static readonly HostAllowList List = new(["images.example.org", "*.cdn.example.net", "203.0.113.7", "[2001:db8::1]"]);

    [Theory]
    [InlineData("images.example.org", true)]
    [InlineData("IMAGES.Example.org.", true)]
    [InlineData("other.example.org", false)]
    [InlineData("a.cdn.example.net", true)]
    [InlineData("a.b.cdn.example.net", true)]
    [InlineData("cdn.example.net", false)]            // the wildcard names subdomains only
    [InlineData("evilcdn.example.net", false)]
    [InlineData("203.0.113.7", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("[2001:db8:0::1]", true)]
    [InlineData("203.0.113.8", false)]
    [InlineData("", false)]
    public void Allows_Host_MatchesExactAndWildcard(string host, bool allowed)
    {
        Assert.Equal(allowed, List.Allows(host));
    }

    [Fact]
    public void Allows_EmptyList_Nothing()
    {
        var empty = new HostAllowList([]);

        Assert.True(empty.IsEmpty);
        Assert.False(empty.Allows("localhost"));
    }

    [Theory]
    [InlineData("example.org", true)]
    [InlineData("*.example.org", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("*", false)]
    [InlineData("exa mple.org", false)]
    [InlineData("", false)]
    public void IsValidPattern_Pattern_Validated(string pattern, bool valid)
    {
        Assert.Equal(valid, HostAllowList.IsValidPattern(pattern));
    }
}
