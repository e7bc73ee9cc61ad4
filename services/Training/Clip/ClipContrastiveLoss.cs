using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Training.Clip;

/// <summary>
/// CLIP's symmetric contrastive loss (Radford et al. 2021, Fig. 3) with multi-positive targets: each row's target is
/// the uniform distribution over its true matches (the diagonal when every pair is distinct, which is the paper's).
/// </summary>
public static class ClipContrastiveLoss
{
    /// <param name="logitsPerText">(Bt, Bi) scaled cosine similarities (Bt may exceed Bi: several texts per image).</param>
    /// <param name="matches">(Bt, Bi) 1 where text j describes image i; every row and column has at least one.</param>
    public static Tensor Compute(Tensor logitsPerText, Tensor matches)
    {
        using var scope = NewDisposeScope();
        var textTargets = matches / matches.sum(1, keepdim: true);                           // (Bt, Bi), rows sum to 1
        var imageTargets = (matches / matches.sum(0, keepdim: true)).t();                     // (Bi, Bt)
        var textLoss = -(textTargets * functional.log_softmax(logitsPerText, 1)).sum(1).mean();
        var imageLoss = -(imageTargets * functional.log_softmax(logitsPerText.t(), 1)).sum(1).mean();
        return ((textLoss + imageLoss) / 2).MoveToOuterDisposeScope();
    }
}
