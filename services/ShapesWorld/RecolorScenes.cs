namespace MultiModal.ShapesWorld;

/// <summary>
/// The init images of the recolouring check (img2img, issue 11): for a target "a &lt;color&gt; &lt;shape&gt;", held-out
/// scene <c>index</c> redrawn as that shape in the color after the target in <see cref="WorldVocabulary.ShapeColors"/>,
/// on its own background unless that would be either color (then gray).
/// </summary>
public static class RecolorScenes
{
    public static WorldScene Source(int index, WorldColor target, WorldShape shape)
    {
        var colors = WorldVocabulary.ShapeColors;
        var source = colors[(colors.ToList().IndexOf(target) + 1) % colors.Count];
        var scene = SceneSampler.Scene(SceneSampler.HeldOutSeed, index);
        var background = scene.Background == source || scene.Background == target ? WorldColor.Gray : scene.Background;
        return scene with { Shape = shape, Color = source, Background = background };
    }
}
