using MultiModal.Training.Clip;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Training;

public sealed class ClipContrastiveLossTests
{
    [Fact]
    public void Compute_DistinctPairs_EqualsTheMeanOfBothCrossEntropies()
    {
        var logits = tensor(new float[] { 2, 0.5f, -1, 0.3f, 1.5f, 0.2f, -0.4f, 0.1f, 3 }, [3, 3]);
        var labels = arange(3, dtype: ScalarType.Int64);

        var loss = ClipContrastiveLoss.Compute(logits, eye(3));

        var expected = (nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.t(), labels)) / 2;
        Assert.Equal(expected.item<float>(), loss.item<float>(), 5);
    }

    [Fact]
    public void Compute_TextMatchingTwoImages_TargetsBothEqually()
    {
        // Text 0 describes images 0 and 1 (e.g. "a red shape" with two red shapes in the batch).
        var matches = tensor(new float[] { 1, 1, 0, 0, 1, 0, 0, 0, 1 }, [3, 3]);
        var even = tensor(new float[] { 5, 5, -5, -5, 5, -5, -5, -5, 5 }, [3, 3]);
        var lopsided = tensor(new float[] { 5, -5, -5, -5, 5, -5, -5, -5, 5 }, [3, 3]);

        Assert.True(ClipContrastiveLoss.Compute(even, matches).item<float>() < ClipContrastiveLoss.Compute(lopsided, matches).item<float>());
    }
}
