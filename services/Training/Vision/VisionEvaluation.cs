using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.Models.Llava;
using MultiModal.Models.Llava.Generation;
using MultiModal.ShapesWorld;
using MultiModal.Training.World;
using static TorchSharp.torch;

namespace MultiModal.Training.Vision;

/// <summary>Held-out accuracy of a LLaVA's greedy answers, with a few answers to show.</summary>
public sealed record VisionEvalResult(int Count, double ColorAccuracy, double ShapeAccuracy, IReadOnlyList<string> Samples)
{
    public override string ToString() => $"{Count} images: color {ColorAccuracy:P1}, shape {ShapeAccuracy:P1}";
}

/// <summary>
/// Asks each image "What color is the shape?" and "What shape is it?" as the Vision service does (LLaVA-1.5 prompt,
/// images decoded and preprocessed like the service, greedy decoding by <see cref="LlavaGenerator"/>). An answer is
/// right when it names the true color (shape) and no other color (shape).
/// </summary>
public static class VisionEvaluation
{
    public static VisionEvalResult Run(LlavaGenerator generator, ClipImageProcessor processor, IReadOnlyList<LabeledImage> images, int samples = 6)
    {
        var options = new GenerationOptions { MaxNewTokens = 12 };
        int colorHits = 0, shapeHits = 0;
        var shown = new List<string>();
        foreach (var image in images)
        {
            using var scope = NewDisposeScope();
            var size = processor.ImageSize;
            var pixels = tensor(processor.Preprocess(ImageDecoder.Decode(image.Data, ImageLimits.Default)), [1, 3, size, size]);
            var color = generator.Generate(LlavaPrompt.Build(WorldQuestions.ColorQuestion), pixels, options).Text;
            var shape = generator.Generate(LlavaPrompt.Build(WorldQuestions.ShapeQuestion), pixels, options).Text;
            colorHits += NamesOnly(color, image.Color, WorldVocabulary.ShapeColors, WorldVocabulary.Name) ? 1 : 0;
            shapeHits += NamesOnly(shape, image.Shape, WorldVocabulary.Shapes, WorldVocabulary.Name) ? 1 : 0;
            if (shown.Count < samples)
                shown.Add($"{WorldVocabulary.Name(image.Color)} {WorldVocabulary.Name(image.Shape)}: color → \"{color.Trim()}\", shape → \"{shape.Trim()}\"");
        }
        return new VisionEvalResult(images.Count, (double)colorHits / images.Count, (double)shapeHits / images.Count, shown);
    }

    /// <summary>True when <paramref name="answer"/> contains the word of <paramref name="truth"/> and of no other value.</summary>
    public static bool NamesOnly<T>(string answer, T truth, IReadOnlyList<T> values, Func<T, string> name)
    {
        var words = answer.ToLowerInvariant().Split([' ', '.', ',', '!', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return values.All(v => words.Contains(name(v)) == EqualityComparer<T>.Default.Equals(v, truth));
    }
}
