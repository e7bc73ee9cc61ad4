using MultiModal.Models.Pipelines;
using MultiModal.Models.Schedulers;
using MultiModal.Tests.Testing;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Pipelines;

/// <summary>The approximate latent → RGB preview formula and the x̂₀ fallback for schedulers without one.</summary>
public sealed class LatentPreviewTests
{
    [Fact]
    public void ApproximateRgb_OneHotChannels_AreTheFactorRowsMappedToBytes()
    {
        // pixel (x, 0) has latent channel x set to 1: its colour is row x of the factors
        var latent = zeros(1, 4, 1, 4);
        for (var c = 0; c < 4; c++) latent[0, c, 0, c] = tensor(1f);

        var image = LatentPreview.ApproximateRgb(latent).Single();

        Assert.Equal((4, 1), (image.Width, image.Height));
        for (var c = 0; c < 4; c++)
        {
            var expected = Enumerable.Range(0, 3)
                .Select(k => (byte)Math.Round((Math.Clamp(LatentPreview.Sd1RgbFactors[c, k], -1f, 1f) + 1) * 127.5, MidpointRounding.ToEven))
                .ToArray();
            Assert.Equal(expected, new[] { image[c, 0].R, image[c, 0].G, image[c, 0].B });
        }
        Assert.Equal(((byte)172, (byte)157, (byte)169), image[0, 0]);   // round((0.3512 + 1)·127.5) = 172 …
    }

    [Fact]
    public void ApproximateRgb_LargeValues_ClampToWhiteAndBlack()
    {
        var latent = zeros(1, 4, 1, 2);
        latent[0, 0, 0, 0] = tensor(10f);    // 10 × row 0 > 1 in every colour
        latent[0, 0, 0, 1] = tensor(-10f);   // < −1 in every colour

        var image = LatentPreview.ApproximateRgb(latent).Single();

        Assert.Equal(((byte)255, (byte)255, (byte)255), image[0, 0]);
        Assert.Equal(((byte)0, (byte)0, (byte)0), image[1, 0]);
    }

    [Fact]
    public void ApproximateRgb_MaxSize_ShrinksLongestSideKeepingAspect()
    {
        var image = LatentPreview.ApproximateRgb(zeros(2, 4, 64, 32), maxSize: 16);

        Assert.Equal(2, image.Count);
        Assert.Equal((8, 16), (image[0].Width, image[0].Height));
        Assert.Equal((128, 128, 128), (image[1][3, 3].R, image[1][3, 3].G, image[1][3, 3].B));   // round(127.5) = 128 (half to even)
    }

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.VPrediction)]
    public void PredictOriginal_FromNoisedSample_RecoversX0(PredictionType prediction)
    {
        var config = new SchedulerConfig { ClassName = SchedulerClasses.Pndm, BetaSchedule = BetaSchedule.ScaledLinear,
            BetaStart = 0.00085, BetaEnd = 0.012, PredictionType = prediction };
        var alphas = NoiseSchedules.AlphasCumprod(config);
        var x0 = randn([1, 4, 8, 8], generator: new Generator(1));
        var eps = randn([1, 4, 8, 8], generator: new Generator(2));
        const int t = 501;
        var (a, s) = ((float)Math.Sqrt(alphas[t]), (float)Math.Sqrt(1 - alphas[t]));
        var xt = x0 * a + eps * s;
        var output = prediction == PredictionType.Epsilon ? eps : eps * a - x0 * s;   // v = √ᾱ·ε − √(1−ᾱ)·x₀

        var recovered = LatentPreview.PredictOriginal(config, alphas, output, xt, t);

        TensorAssert.Close(x0, recovered, atol: 1e-4, rtol: 1e-4, what: "recovered x0");
    }
}
