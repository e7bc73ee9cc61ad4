using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>
/// The forward passes free their intermediates as they go: inside a dispose scope, only the returned tensors are still
/// alive afterwards (no undisposed views either: a view keeps its base's storage). A 512×512 UNet step would otherwise
/// hold gigabytes of activations until the runner's scope ends.
/// </summary>
public sealed class IntermediateTensorTests(TinySdPipelines pipelines) : IClassFixture<TinySdPipelines>
{
    [Theory]
    [InlineData("tiny-sd")]
    [InlineData("tiny-sd2-v")]
    public void UNetForward_InsideScope_LeavesOnlyTheOutput(string name)
    {
        using var outer = NewDisposeScope();
        using var _ = inference_mode();
        var golden = pipelines.Golden(name);
        var (sample, context, timestep) = (golden["unet.sample"], golden["unet.encoder_hidden_states"], tensor(new float[] { 999f, 1f }));

        using var inner = NewDisposeScope();
        var noisePred = pipelines.Models(name).Unet.Forward(sample, timestep, context);

        Assert.Equal(1, inner.DisposablesCount);
        Assert.True(inner.Contains(noisePred));
    }

    [Fact]
    public void VaeEncodeDecode_InsideScope_LeaveOnlyTheResults()
    {
        using var outer = NewDisposeScope();
        using var _ = inference_mode();
        var golden = pipelines.Golden("tiny-sd");
        var (image, latents) = (golden["vae.encode_input"], golden["vae.decode_input"]);
        var vae = pipelines.Models("tiny-sd").Vae;

        using (var inner = NewDisposeScope())
        {
            var decoded = vae.Decode(latents);
            Assert.Equal(1, inner.DisposablesCount);
        }
        using (var inner = NewDisposeScope())
        {
            using var posterior = vae.Encode(image);
            Assert.Equal(4, inner.DisposablesCount);                      // parameters, mean, logvar, std
        }
    }
}
