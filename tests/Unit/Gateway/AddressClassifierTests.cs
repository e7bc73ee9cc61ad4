using System.Net;
using MultiModal.Gateway.OpenAi.ImageFetch;
using Xunit;

namespace MultiModal.Tests.Unit.Gateway;

public sealed class AddressClassifierTests
{
    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]      // cloud metadata
    [InlineData("100.64.0.1")]           // carrier-grade NAT
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.251")]          // multicast
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("fe80::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:127.0.0.1")]     // IPv4-mapped loopback
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a00:1")]       // NAT64 of 10.0.0.1
    public void IsAllowed_SpecialPurposeAddress_False(string address)
    {
        Assert.False(AddressClassifier.IsAllowed(IPAddress.Parse(address), []));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("93.184.216.34")]
    [InlineData("172.32.0.1")]           // just outside 172.16/12
    [InlineData("100.128.0.1")]          // just outside 100.64/10
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void IsAllowed_PublicAddress_True(string address)
    {
        Assert.True(AddressClassifier.IsAllowed(IPAddress.Parse(address), []));
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.0/8", true)]
    [InlineData("::ffff:127.0.0.1", "127.0.0.0/8", true)]
    [InlineData("10.20.1.1", "10.20.0.0/16", true)]
    [InlineData("10.21.1.1", "10.20.0.0/16", false)]
    [InlineData("::1", "127.0.0.0/8", false)]
    [InlineData("169.254.169.254", "10.0.0.0/8", false)]
    public void IsAllowed_AllowedNetworks_ExemptOnlyTheirOwnAddresses(string address, string network, bool allowed)
    {
        Assert.Equal(allowed, AddressClassifier.IsAllowed(IPAddress.Parse(address), [IPNetwork.Parse(network)]));
    }
}
