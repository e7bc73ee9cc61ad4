namespace MultiModal.Models.Weights;

/// <summary>Checkpoint key renames, one function per model family (the only place where checkpoint keys are renamed).</summary>
public static partial class KeyRemaps
{
    /// <summary>
    /// LLaVA: maps a module key (the llava-hf layout every published checkpoint uses: <c>vision_tower.*</c>,
    /// <c>multi_modal_projector.*</c>, <c>language_model.model.*</c>, <c>language_model.lm_head.*</c>) to the key in a
    /// checkpoint. When <paramref name="checkpointKeys"/> use the layout of transformers ≥ 4.52
    /// (<c>model.vision_tower.*</c>, <c>model.multi_modal_projector.*</c>, <c>model.language_model.*</c>,
    /// <c>lm_head.*</c>), keys are renamed to it; otherwise the identity is returned.
    /// </summary>
    public static Func<string, string> Llava(IEnumerable<string> checkpointKeys)
    {
        var newer = checkpointKeys.Any(k => k.StartsWith("model.language_model.", StringComparison.Ordinal)
                                            || k.StartsWith("model.vision_tower.", StringComparison.Ordinal));
        if (!newer) return key => key;
        return key => key switch
        {
            _ when key.StartsWith("language_model.model.", StringComparison.Ordinal) => "model.language_model." + key["language_model.model.".Length..],
            _ when key.StartsWith("language_model.lm_head.", StringComparison.Ordinal) => "lm_head." + key["language_model.lm_head.".Length..],
            _ when key.StartsWith("vision_tower.", StringComparison.Ordinal) => "model." + key,
            _ when key.StartsWith("multi_modal_projector.", StringComparison.Ordinal) => "model." + key,
            _ => key,
        };
    }
}
