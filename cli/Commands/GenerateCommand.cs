using System.CommandLine;
using Grpc.Core;
using MultiModal.Cli.Errors;
using MultiModal.Cli.Generate;
using MultiModal.Cli.Images;
using MultiModal.Contracts.Diffusion.V1;
using Spectre.Console;

namespace MultiModal.Cli.Commands;

/// <summary>
/// <c>mm generate "prompt"</c>: one GenerateImage stream with a live progress bar on stderr, previews written to
/// <c>--previews DIR</c> as they arrive (and shown inline where the terminal can), the result images as the service
/// encoded them (PNG with its "parameters" chunk by default). Ctrl-C cancels the call, which cancels the server's job.
/// </summary>
internal static class GenerateCommand
{
    public static void AddGenerateCommand(this RootCommand root)
    {
        var prompt = new Argument<string>("prompt") { Description = "What to draw" };
        var negative = new Option<string>("--negative") { HelpName = "TEXT", Description = "What the image should not contain" };
        var steps = new Option<uint>("--steps") { HelpName = "N", Description = "Denoising steps (0: the server's default, 50)" };
        var seed = new Option<ulong?>("--seed") { HelpName = "SEED", Description = "Seed of the first image (image i uses seed + i); random when unset" };
        var scheduler = new Option<string>("--scheduler") { Description = "Scheduler (default: the model's own)" };
        scheduler.AcceptOnlyFromAmong(Schedulers.Names);
        var count = new Option<uint>("-n", "--num-images") { HelpName = "N", Description = "Images to generate", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("-o", "--output") { HelpName = "FILE", Description = "Output file (default: <prompt slug>-<seed>.png); .jpg/.webp pick the encoding" };
        var init = new Option<string>("--init") { HelpName = "IMAGE", Description = "img2img: the image to start from" };
        var strength = new Option<float>("--strength") { HelpName = "S", Description = "img2img strength in (0, 1] (server default 0.8)" };
        var width = new Option<uint>("--width", "-W") { HelpName = "PX", Description = "Width in pixels, a multiple of 8 (0: native)" };
        var height = new Option<uint>("--height", "-H") { HelpName = "PX", Description = "Height in pixels, a multiple of 8 (0: native)" };
        var guidance = new Option<float?>("--guidance", "-g") { HelpName = "SCALE", Description = "Classifier-free guidance scale (server default 7.5)" };
        var previews = new Option<string>("--previews") { HelpName = "DIR", Description = "Write each preview frame (JPEG) into this folder as it arrives" };
        var previewEvery = new Option<uint>("--preview-every") { HelpName = "N", Description = "A preview every N steps", DefaultValueFactory = _ => 1 };
        var command = new Command("generate", "Generate images (Stable Diffusion) with a live progress bar; Ctrl-C cancels the job")
        {
            prompt, negative, steps, seed, scheduler, count, output, init, strength, width, height, guidance, previews, previewEvery,
        };
        command.SetGatewayAction(async (parsed, gateway, cancellationToken) =>
        {
            var names = new OutputNames(parsed.GetValue(prompt)!, parsed.GetValue(output));
            var request = new GenerateImageRequest
            {
                Prompt = parsed.GetValue(prompt)!,
                NegativePrompt = parsed.GetValue(negative) ?? "",
                Steps = parsed.GetValue(steps),
                Scheduler = Schedulers.Parse(parsed.GetValue(scheduler)),
                NumImages = parsed.GetValue(count),
                Width = parsed.GetValue(width),
                Height = parsed.GetValue(height),
                Strength = parsed.GetValue(strength),
                OutputFormat = names.Format,
            };
            if (parsed.GetValue(seed) is { } s)
                request.Seed = s;
            if (parsed.GetValue(guidance) is { } g)
                request.GuidanceScale = g;
            if (parsed.GetValue(init) is { } initPath)
                request.InitImage = await ImageFiles.ReadAsync(initPath, cancellationToken);

            var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            var inline = InlineImages.Detect(Environment.GetEnvironmentVariable, !Console.IsErrorRedirected);
            var previewFolder = parsed.GetValue(previews);
            if (previewFolder is not null || inline != InlineProtocol.None)
                request.Preview = new PreviewOptions { EveryNSteps = Math.Max(1, parsed.GetValue(previewEvery)), Kind = PreviewKind.Approximate };
            if (previewFolder is not null)
                Directory.CreateDirectory(previewFolder);

            var view = new GenerateView(stderr, inline);
            var saved = new List<string>();
            await view.RunAsync(async () =>
            {
                using var call = new DiffusionService.DiffusionServiceClient(gateway.Channel)
                    .GenerateImage(request, gateway.Headers, cancellationToken: cancellationToken);
                await foreach (var e in call.ResponseStream.ReadAllAsync(cancellationToken))
                {
                    switch (e.EventCase)
                    {
                        case GenerateImageResponse.EventOneofCase.Queued:
                            view.Queued(e.Queued);
                            break;
                        case GenerateImageResponse.EventOneofCase.Progress:
                            var frames = e.Progress.Preview?.Images ?? [];
                            for (var i = 0; i < frames.Count; i++)
                            {
                                if (previewFolder is not null)
                                    await File.WriteAllBytesAsync(names.Preview(previewFolder, e.Progress.Step, i, frames.Count),
                                        frames[i].Data.ToByteArray(), cancellationToken);
                                view.Image(frames[i].Data.Span);
                            }
                            view.Step(e.Progress);
                            break;
                        case GenerateImageResponse.EventOneofCase.Result:
                            var result = e.Result;
                            for (var i = 0; i < result.Images.Count; i++)
                            {
                                var file = names.Result(result.Seeds[i], result.Images.Count);
                                if (Path.GetDirectoryName(file) is { Length: > 0 } folder)
                                    Directory.CreateDirectory(folder);
                                await File.WriteAllBytesAsync(file, result.Images[i].Data.ToByteArray(), CancellationToken.None);
                                saved.Add($"saved {file} ({result.Images[i].Width}x{result.Images[i].Height}, seed {result.Seeds[i]}, " +
                                    $"{result.StepsRun} steps, {Schedulers.Name(result.Scheduler)}, " +
                                    $"{result.Timings?.Total?.ToTimeSpan().TotalSeconds ?? 0:F1} s)");
                                view.Image(result.Images[i].Data.Span);
                            }
                            view.Done($"done: {result.Images.Count} image(s), {result.StepsRun} steps" +
                                (result.PromptTruncated ? " (prompt truncated to 77 tokens)" : ""));
                            break;
                    }
                }
            });
            foreach (var line in saved)
                Console.WriteLine(line);
            return ExitCodes.Ok;
        });
        root.Subcommands.Add(command);
    }
}
