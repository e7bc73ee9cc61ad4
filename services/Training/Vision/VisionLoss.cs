using MultiModal.Models.Llava;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Training.Vision;

/// <summary>
/// LLaVA's training loss: next-token cross-entropy over the answer tokens only, through the serving forward
/// (<see cref="LlavaForConditionalGeneration.Forward"/> without a cache: vision tower, projector, merge, decoder).
/// </summary>
public static class VisionLoss
{
    public static Tensor Compute(LlavaForConditionalGeneration model, VisionWorldBatches.Batch batch)
    {
        using var scope = NewDisposeScope();
        var output = model.Forward(batch.InputIds, batch.PixelValues);
        var logits = output.Logits;                                                   // (B, L, V)
        if (logits.shape[1] != batch.Targets.shape[1])
            throw new InvalidOperationException($"merged length {logits.shape[1]} != targets {batch.Targets.shape[1]}");
        var v = logits.shape[2];
        // Right padding under a causal mask: no real position attends to a pad, and pads carry no target.
        var loss = functional.cross_entropy(logits.reshape(-1, v), batch.Targets.reshape(-1), ignore_index: VisionWorldBatches.IgnoreIndex);
        return loss.MoveToOuterDisposeScope();
    }
}
