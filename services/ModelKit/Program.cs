using MultiModal.ModelKit;
using MultiModal.ModelKit.Fetch;

// Usage: ModelKit clip <out-dir> [--preset small|vit-b-32|vit-l-14] [--seed N]
//        ModelKit sd <out-dir> [--preset tiny|sd15] [--seed N]
//        ModelKit llava <out-dir> [--preset tiny|tinyllama-vitl336] [--seed N]
//        ModelKit fetch <org/name> --to <dir> [--revision R] [--files globs] [--endpoint URL] [--token-file F] [--offline]
var kind = args.ElementAtOrDefault(0);
if (kind == "fetch")
    return await FetchCommand.RunAsync(args);
var outDir = args.ElementAtOrDefault(1);
var preset = Option("--preset", kind is "sd" or "llava" ? "tiny" : "small");
var seed = long.Parse(Option("--seed", "0"));
switch (kind)
{
    case "clip" when outDir is not null:
        ClipKit.Write(outDir, preset, seed);
        Console.WriteLine($"wrote CLIP ({preset}, seed {seed}) to {outDir}");
        return 0;
    case "sd" when outDir is not null:
        SdKit.Write(outDir, preset, seed);
        Console.WriteLine($"wrote Stable Diffusion ({preset}, seed {seed}) to {outDir}");
        return 0;
    case "llava" when outDir is not null:
        LlavaKit.Write(outDir, preset, seed);
        Console.WriteLine($"wrote LLaVA ({preset}, seed {seed}) to {outDir}");
        return 0;
    default:
        Console.Error.WriteLine("usage: ModelKit clip <out-dir> [--preset small|vit-b-32|vit-l-14] [--seed N]");
        Console.Error.WriteLine("       ModelKit sd <out-dir> [--preset tiny|sd15] [--seed N]");
        Console.Error.WriteLine("       ModelKit llava <out-dir> [--preset tiny|tinyllama-vitl336] [--seed N]");
        Console.Error.WriteLine("       " + FetchCommand.Usage);
        return 2;
}

string Option(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
