using MultiModal.Gateway.OpenAi;
using MultiModal.Gateway.OpenAi.ImageFetch;
using Xunit;

namespace MultiModal.Tests.Unit.Gateway;

public sealed class ImageFetchOptionsValidatorTests
{
    [Fact]
    public void Validate_ShippedDefaults_Succeeds()
    {
        Assert.True(new ImageFetchOptionsValidator().Validate(null, new ImageFetchOptions()).Succeeded);
    }

    [Fact]
    public void Validate_BadEntries_FailsNamingEach()
    {
        var options = new ImageFetchOptions
        {
            AllowedNetworks = ["10.0.0.0/33"], AllowedHosts = ["*"], MaxBytes = 0, Timeout = TimeSpan.Zero, MaxRedirects = 11,
            ResolveOverrides = { ["img.test"] = "not-an-ip" },
        };

        var result = new ImageFetchOptionsValidator().Validate(null, options);

        Assert.Equal(6, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.Contains("10.0.0.0/33"));
        Assert.Contains(result.Failures!, f => f.Contains("ResolveOverrides:img.test"));
    }

    [Fact]
    public void Validate_AliasWithoutTarget_Fails()
    {
        var options = new OpenAiOptions { ModelAliases = { ["gpt-4o"] = "" } };

        var result = new OpenAiOptionsValidator().Validate(null, options);

        Assert.Contains("Gateway:ModelAliases:gpt-4o", Assert.Single(result.Failures!));
    }
}
