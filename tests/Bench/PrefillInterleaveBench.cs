using System.Diagnostics;
using MultiModal.Models.Llava;
using MultiModal.Models.Llava.Generation;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// A long image prompt joining running generations, as the service's queue runs it (LlavaGenerator.Step per
/// iteration): the longest wait between two tokens of the running generations while the newcomer prefills, and the
/// newcomer's time to its first token, with the whole prefill at once (the baseline, run first) and in chunks.
/// </summary>
public static class PrefillInterleaveBench
{
    public static void Run(LlavaGenerator generator, Tensor pixel_values, int[] imagePromptIds, int running)
    {
        Console.WriteLine();
        Console.WriteLine($"| prefill of the {imagePromptIds.Length - 1 + generator.Model.Config.ImageSequenceLength}-position image prompt | longest gap between tokens of {running} running generations | × whole | newcomer's first token after | iterations |");
        Console.WriteLine("|---|---|---|---|---|");
        double? wholeGap = null;
        foreach (var chunk in new int?[] { null, 256, 128, 64 })
        {
            var (gapMs, firstTokenSeconds, steps) = Measure(generator, pixel_values, imagePromptIds, running, chunk);
            wholeGap ??= gapMs;
            Console.WriteLine($"| {(chunk is { } c ? $"chunks of {c}" : "whole, at admission (baseline)")} | {gapMs:F0} ms | {gapMs / wholeGap:F2} | {firstTokenSeconds:F2} s | {steps} |");
        }
    }

    private static (double GapMs, double FirstTokenSeconds, int Steps) Measure(
        LlavaGenerator generator, Tensor pixel_values, int[] imagePromptIds, int running, int? chunk)
    {
        var others = Enumerable.Range(0, running).Select(i => generator.Start(
            generator.Tokenizer.Encode(LlavaPrompt.Build($"Question {i}: what is shown on a test card?", images: 0)), null,
            new GenerationOptions { MaxNewTokens = 1000 })).ToList();
        generator.Step(others);                                                                 // warm-up step
        var lastToken = Stopwatch.GetTimestamp();
        var longestGap = TimeSpan.Zero;
        void Tick()
        {
            var now = Stopwatch.GetTimestamp();
            longestGap = TimeSpan.FromTicks(Math.Max(longestGap.Ticks, Stopwatch.GetElapsedTime(lastToken, now).Ticks));
            lastToken = now;
        }

        // As the queue does: the admission (Start) and the next step form one iteration between two tokens.
        var arrived = Stopwatch.StartNew();
        var newcomer = generator.Start(imagePromptIds, pixel_values, new GenerationOptions { MaxNewTokens = 1 }, prefillChunkTokens: chunk);
        var steps = 0;
        var firstToken = 0.0;
        do
        {
            generator.Step([.. others.Where(s => !s.IsFinished), .. newcomer.IsFinished ? Array.Empty<GenerationSequence>() : [newcomer]]);
            Tick();
            steps++;
            if (!newcomer.IsPrefilling && firstToken == 0) firstToken = arrived.Elapsed.TotalSeconds;
        }
        while (newcomer.IsPrefilling);
        newcomer.Dispose();
        foreach (var s in others) s.Dispose();
        return (longestGap.TotalMilliseconds, firstToken, steps);
    }
}
