using MultiModal.Training.Cli;
using Xunit;

namespace MultiModal.Tests.Unit.Training;

/// <summary>The training command line refuses options that cannot make a model, before any training starts.</summary>
public sealed class TrainingCliTests
{
    [Theory]
    [InlineData("--unet-layers", "0", "--unet-layers 0: a UNet block needs at least one layer")]
    [InlineData("--snr-gamma", "-1", "--snr-gamma -1: must be positive")]
    [InlineData("--ema-decay", "1", "--ema-decay 1: must be between 0 and 1")]
    [InlineData("--snapshot-every", "-100", "--snapshot-every -100: must be 0 (none) or a positive multiple")]
    [InlineData("--sampler", "heun", "--sampler heun: one of")]
    public void TrainDiffusion_ImpossibleOption_ExitsWithUsageErrorNamingIt(string option, string value, string expected) =>
        AssertUsageError(["train", "diffusion", "--clip", "no-such-clip", "--out", "no-such-out", option, value], expected);

    [Theory]
    [InlineData("--seed-offset", "-1", "--seed-offset -1: seeds are offset + prompt index")]
    [InlineData("--scheduler", "karras", "--scheduler karras: one of Default, Ddim, Pndm")]
    [InlineData("--scheduler", "42", "--scheduler 42: one of")]
    public void EvalDiffusion_ImpossibleOption_ExitsWithUsageErrorNamingIt(string option, string value, string expected) =>
        AssertUsageError(["eval", "diffusion", "--model", "no-such-model", "--clip", "no-such-clip", option, value], expected);

    private static void AssertUsageError(string[] args, string expected)
    {
        var errors = new StringWriter();
        var before = Console.Error;
        Console.SetError(errors);
        try
        {
            var code = TrainingCli.Run(args);

            Assert.Equal(2, code);
            Assert.Contains(expected, errors.ToString());
        }
        finally
        {
            Console.SetError(before);
        }
    }
}
