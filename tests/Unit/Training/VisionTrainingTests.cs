using MultiModal.ShapesWorld;
using MultiModal.Training.Loop;
using MultiModal.Training.Vision;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Training;

/// <summary>
/// The serving LlavaForConditionalGeneration trains: the tower starts as the CLIP's, the targets are the answers only,
/// every trained parameter gets a gradient, the loss falls, and a training-mode forward computes the serving numbers.
/// </summary>
public sealed class VisionTrainingTests
{
    [Fact]
    public void Create_FromAClipFolder_VisionTowerHoldsTheClipsWeights()
    {
        using var vision = new TinyVision(seed: 21);
        var clip = vision.Clip.VisionModel.state_dict();
        var llava = vision.Model.state_dict();
        Assert.NotEmpty(clip);
        Assert.All(clip, kv => Assert.True(kv.Value.eq(llava["vision_tower.vision_model." + kv.Key]).all().item<bool>(), $"{kv.Key} differs"));
    }

    [Fact]
    public void Batch_Targets_AreTheAnswerTokensAndEosOnly()
    {
        using var vision = new TinyVision(seed: 22);
        var scene = SceneSampler.Scene(1, 0);
        var question = WorldQuestions.All(scene)[1];   // "What shape is it?" → "a circle"
        var batch = vision.Batches.Build([scene], [question]);

        var targets = batch.Targets[0].data<long>().ToArray().Where(t => t != VisionWorldBatches.IgnoreIndex).Select(t => (int)t).ToList();
        Assert.Equal(vision.Tokenizer.EosTokenId, targets[^1]);
        Assert.Equal(question.Answer, vision.Tokenizer.Decode(targets, skipSpecialTokens: true).Trim());
        // Merged length: the text tokens with <image> replaced by the tower's rows.
        Assert.Equal(batch.InputIds.shape[1] - 1 + vision.Model.Config.ImageSequenceLength, batch.Targets.shape[1]);
    }

    [Fact]
    public void Loss_Backward_EveryTrainedParameterGetsAFiniteNonZeroGradient()
    {
        using var vision = new TinyVision(seed: 23);
        vision.Model.train();

        using var loss = vision.LossAt(0);
        loss.backward();

        var trained = vision.Model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        Assert.Contains(trained, p => p.name.StartsWith("vision_tower.", StringComparison.Ordinal));
        Assert.Contains(trained, p => p.name.StartsWith("multi_modal_projector.", StringComparison.Ordinal));
        Assert.Contains(trained, p => p.name.StartsWith("language_model.lm_head", StringComparison.Ordinal));
        Assert.All(trained, p =>
        {
            var grad = p.parameter.grad;
            Assert.True(grad is not null, $"{p.name} got no gradient");
            Assert.True(grad.isfinite().all().item<bool>(), $"{p.name}: non-finite gradient");
            Assert.True(grad.abs().sum().item<float>() > 0, $"{p.name}: zero gradient");
        });
    }

    [Fact]
    public void FrozenVision_Backward_TowerGetsNoGradient()
    {
        using var vision = new TinyVision(seed: 24, freezeTower: true);
        using var loss = vision.LossAt(0);
        loss.backward();

        Assert.All(vision.Model.named_parameters().Where(p => p.name.StartsWith("vision_tower.", StringComparison.Ordinal)),
            p => Assert.True(p.parameter.grad is null && !p.parameter.requires_grad, $"{p.name} is trained"));
    }

    [Fact]
    public void Forward_WithGradOn_GivesTheServingLogits()
    {
        using var vision = new TinyVision(seed: 25);
        var batch = vision.Batches.At(0);
        using var training = vision.Model.Forward(batch.InputIds, batch.PixelValues).Logits;
        Assert.True(training.requires_grad);
        using (inference_mode())
        {
            using var serving = vision.Model.Forward(batch.InputIds, batch.PixelValues).Logits;
            Assert.True(training.detach().allclose(serving, rtol: 1e-5, atol: 1e-5), "training-mode logits differ from the serving ones");
        }
    }

    [Fact]
    public void TrainingLoop_FortySteps_LossFalls()
    {
        using var vision = new TinyVision(seed: 26);
        var work = Directory.CreateTempSubdirectory("vision-loop-").FullName;
        try
        {
            var loop = new TrainingLoop(vision.Model,
                new LoopOptions(40, LearningRate: 1e-2, WarmupSteps: 3, WeightDecay: 0.05, GradientClip: 1.0, CheckpointEvery: 20, work, Resume: false),
                "tiny-vision", "tiny");
            loop.Run(vision.LossAt);

            var first = loop.Losses.Take(5).Average();
            var last = loop.Losses.TakeLast(5).Average();
            Assert.True(last < first - 2.0, $"loss {first:F3} (first 5 steps) -> {last:F3} (last 5)");
            Assert.True(File.Exists(Path.Combine(work, "loss.png")));
            Assert.True(File.Exists(Path.Combine(work, "checkpoint", "model.dat")));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Theory]
    [InlineData("a circle", true)]
    [InlineData("circle.", true)]
    [InlineData("a square", false)]
    [InlineData("a circle or a star", false)]
    [InlineData("circles", false)]
    public void NamesOnly_Answer_RightWhenItNamesTheTruthAndNothingElse(string answer, bool right) =>
        Assert.Equal(right, VisionEvaluation.NamesOnly(answer, WorldShape.Circle, WorldVocabulary.Shapes, WorldVocabulary.Name));
}
