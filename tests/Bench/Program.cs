using MultiModal.Tests.Bench;

// Usage: MultiModal.Tests.Bench --model <clip-folder> [--seconds N]
//        MultiModal.Tests.Bench --vision <llava-folder> [--decode-tokens N]
if (Option("--vision") is { } vision)
{
    VisionBench.Run(Path.GetFullPath(vision), int.Parse(Option("--decode-tokens") ?? "8", System.Globalization.CultureInfo.InvariantCulture));
    return;
}
var model = Path.GetFullPath(Option("--model") ?? throw new ArgumentException("--model <clip folder> or --vision <llava folder> is required"));
var seconds = double.Parse(Option("--seconds") ?? "10", System.Globalization.CultureInfo.InvariantCulture);
await ClipBench.RunAsync(model, TimeSpan.FromSeconds(seconds));

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
