using MultiModal.Cli.Generate;
using MultiModal.Contracts.Diffusion.V1;
using Xunit;

namespace MultiModal.Tests.Unit.Cli;

public sealed class OutputNamesTests
{
    [Theory]
    [InlineData("A Red Circle, at dusk!", "a-red-circle-at-dusk")]
    [InlineData("  --ünïcode cat--  ", "n-code-cat")]
    [InlineData("!!!", "image")]
    [InlineData("", "image")]
    public void Slug_Prompt_LowercaseLettersDigitsAndSingleDashes(string prompt, string slug) =>
        Assert.Equal(slug, OutputNames.Slug(prompt));

    [Fact]
    public void Slug_LongPrompt_AtMost48Characters()
    {
        var slug = OutputNames.Slug(string.Join(' ', Enumerable.Repeat("lighthouse", 20)));

        Assert.True(slug.Length <= 48, slug);
        Assert.StartsWith("lighthouse-lighthouse-", slug);
        Assert.False(slug.EndsWith('-'));
    }

    [Fact]
    public void Result_NoOutputOption_SlugAndSeedPng() =>
        Assert.Equal("a-red-circle-42.png", new OutputNames("a red circle", null).Result(42, 1));

    [Fact]
    public void Result_OutputAndOneImage_ThatFile() =>
        Assert.Equal("out/x.webp", new OutputNames("p", "out/x.webp").Result(7, 1));

    [Fact]
    public void Result_OutputAndSeveralImages_SeedBeforeTheExtension() =>
        Assert.Equal(Path.Combine("out", "x-8.jpg"), new OutputNames("p", "out/x.jpg").Result(8, 2));

    [Theory]
    [InlineData(null, OutputFormat.Png)]
    [InlineData("a.png", OutputFormat.Png)]
    [InlineData("a.JPG", OutputFormat.Jpeg)]
    [InlineData("a.jpeg", OutputFormat.Jpeg)]
    [InlineData("a.webp", OutputFormat.Webp)]
    [InlineData("a", OutputFormat.Png)]
    public void Format_OutputExtension_PicksTheEncoding(string? output, OutputFormat format) =>
        Assert.Equal(format, new OutputNames("p", output).Format);

    [Fact]
    public void Preview_SeveralImages_StepAndIndex() =>
        Assert.Equal(Path.Combine("dir", "a-cat-step007-1.jpg"), new OutputNames("a cat", null).Preview("dir", 7, 1, 2));
}
