using MultiModal.Models.Clip;
using MultiModal.ShapesWorld;
using MultiModal.Training.Clip;
using MultiModal.Training.World;
using Xunit;

namespace MultiModal.Tests.Unit.Training;

/// <summary>The shape diagnostics of issue 11: prompts unseen in training, per-size accuracy, the shape confusion, the shape term's batch.</summary>
public sealed class ZeroShotDiagnosticsTests
{
    [Fact]
    public void HeldOutTemplates_AnyScene_NoTrainingCaptionHasTheirWording()
    {
        foreach (var scene in SceneSampler.Scenes(1, 0, 200))
        {
            var captions = WorldCaptions.All(scene).Select(c => c.Text).ToHashSet();
            string color = WorldVocabulary.Name(scene.Color), shape = WorldVocabulary.Name(scene.Shape);
            Assert.DoesNotContain(string.Format(ZeroShotTemplates.HeldOut.Color, color), captions);
            Assert.DoesNotContain(string.Format(ZeroShotTemplates.HeldOut.Shape, shape), captions);
            Assert.Contains(string.Format(ZeroShotTemplates.Trained.Shape, shape), captions);   // the default set is trained wording
        }
    }

    [Fact]
    public void ZeroShotEvaluation_Breakdown_ConfusionAndSizesAccountForEveryImage()
    {
        using var clip = new TinyClip(seed: 21);
        var images = LabeledImages.Rendered(seed: 5, count: 24, size: 32);

        var result = ZeroShotEvaluation.Run(clip.Model, ClipTokenizer.FromFolder(clip.Folder), ClipImageProcessor.FromFolder(clip.Folder), images,
            ZeroShotTemplates.HeldOut);

        var confusion = result.ShapeConfusion;
        var total = 0;
        var diagonal = 0;
        for (var t = 0; t < 4; t++)
            for (var p = 0; p < 4; p++)
                (total, diagonal) = (total + confusion[t, p], diagonal + (t == p ? confusion[t, p] : 0));
        Assert.Equal(images.Count, total);
        Assert.Equal(result.ShapeAccuracy, (double)diagonal / images.Count, 6);
        Assert.Equal(images.Count, result.BySize.Values.Sum(v => v.Count));
        Assert.Equal(images.Count(i => i.Size == WorldSize.Small), result.BySize.GetValueOrDefault(WorldSize.Small).Count);
        Assert.Contains("shape confusion", result.Breakdown());
    }

    [Fact]
    public void WorldBatches_WithShapeTexts_AppendTheFourShapesAndLabelEveryImage()
    {
        using var clip = new TinyClip(seed: 22);
        var batches = new ClipWorldBatches(ClipTokenizer.FromFolder(clip.Folder), ClipImageProcessor.FromFolder(clip.Folder), seed: 1, batchSize: 8, shapeTexts: true);

        var batch = batches.At(3);

        Assert.Equal(ClipWorldBatches.TextsPerImage * 8, batch.Matches.shape[0]);
        Assert.Equal(batch.Matches.shape[0] + 4, batch.InputIds.shape[0]);
        var expected = SceneSampler.Scenes(1, 3 * 8, 8).Select(s => (long)s.Shape).ToArray();
        Assert.Equal(expected, batch.ShapeLabels.data<long>().ToArray());
    }

    [Fact]
    public void Templates_UnknownName_IsRejected() =>
        Assert.Throws<ArgumentException>(() => ZeroShotTemplates.Parse("nope"));
}
