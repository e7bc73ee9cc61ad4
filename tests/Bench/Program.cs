using MultiModal.Tests.Bench;

// Usage: MultiModal.Tests.Bench --model <clip-folder> [--seconds N]
var model = Path.GetFullPath(Option("--model") ?? throw new ArgumentException("--model <clip folder> is required"));
var seconds = double.Parse(Option("--seconds") ?? "10", System.Globalization.CultureInfo.InvariantCulture);
await ClipBench.RunAsync(model, TimeSpan.FromSeconds(seconds));

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
