using System.Globalization;
using MultiModal.Tests.Bench;
using MultiModal.Models.Runtime;

// Usage: MultiModal.Tests.Bench --model <clip-folder> [--seconds N] [--dtype float32|bfloat16] [--ort <anchors onnx dir>]
//        MultiModal.Tests.Bench --diffusion <sd-folder> [--size 512] [--steps 2] [--target-steps 20] [--unet-iters 2] [--device cpu] [--dtype float32]
//        MultiModal.Tests.Bench --vision <llava-folder> [--decode-tokens N]
//        MultiModal.Tests.Bench --vision-dtypes <llava-folder> [--golden <golden llava folder>] [--decode-tokens N] [--rounds R]
//        MultiModal.Tests.Bench --clip-dtypes <clip-folder> [--rounds 5]
//        MultiModal.Tests.Bench --sd-dtypes <sd-folder> [--size 256] [--steps 4] [--rounds 3]
//        MultiModal.Tests.Bench --load <llava-folder | diffusers-folder>
//        MultiModal.Tests.Bench --soak <models-folder> [--minutes 30] [--out tests/Bench/soak]
//        MultiModal.Tests.Bench --peers <anchors onnx dir> [--clip <clip-folder>] [--sd <sd15-folder>] [--only clip,unet,vae|sd]
//                                   [--rounds 7] [--sd-rounds 3] [--torch-logs <kit log dir>]
//        MultiModal.Tests.Bench --overload <models-folder> [--seconds 60] [--services clip,vision,diffusion]
//        MultiModal.Tests.Bench --gemm [--rounds 15]
//        MultiModal.Tests.Bench --clip-packing <clip-folder> [--rounds 9]
//        MultiModal.Tests.Bench --gateway <clip-folder> [--rounds 5] [--window-seconds 2]
//        MultiModal.Tests.Bench --served-cost <clip-folder> [--calls 60] [--seconds 8]
//        MultiModal.Tests.Bench --clip-loop <clip-folder> [--tower image|text] [--batch 1] [--seconds 20] [--packing OneMkl|Panels]
// oneMKL's vendor dispatch and NNPACK off before the first tensor op, as every service does (TorchRuntime).
MultiModal.Models.Runtime.TorchRuntime.Initialize();
if (Option("--peers") is { } onnxDir)
{
    return MultiModal.Tests.Bench.Peers.PeersBench.Run(new MultiModal.Tests.Bench.Peers.PeersBench.Options(Path.GetFullPath(onnxDir),
        Option("--clip") is { } c ? Path.GetFullPath(c) : null, Option("--sd") is { } s ? Path.GetFullPath(s) : null,
        MultiModal.Tests.Bench.Peers.PeersBench.Sections(Option("--only")), Int("--rounds", 7), Int("--sd-rounds", 3), Option("--torch-logs")));
}
if (Option("--clip-packing") is { } packingFolder)
{
    PackingBench.Run(Path.GetFullPath(packingFolder), Int("--rounds", 9));
    return 0;
}
if (Option("--served-cost") is { } servedFolder)
{
    await ServedCostBench.RunAsync(Path.GetFullPath(servedFolder), Int("--calls", 60),
        TimeSpan.FromSeconds(double.Parse(Option("--seconds") ?? "8", CultureInfo.InvariantCulture)));
    return 0;
}
if (Option("--clip-loop") is { } loopFolder)
{
    ClipLoopBench.Run(Path.GetFullPath(loopFolder), Option("--tower") ?? "image", Int("--batch", 1),
        TimeSpan.FromSeconds(double.Parse(Option("--seconds") ?? "20", CultureInfo.InvariantCulture)),
        Option("--packing") is { } packing ? Enum.Parse<LinearPacking>(packing, ignoreCase: true) : LinearPackings.Default);
    return 0;
}
if (args.Contains("--arena-probe"))
{
    ArenaProbe.Run();
    return 0;
}
if (args.Contains("--gemm"))
{
    GemmBench.Run(Int("--rounds", 15), Int("--weights", 12));
    return 0;
}
if (args.Contains("--gemv"))
{
    GemvBench.Run(Int("--rounds", 5));
    return 0;
}
if (Option("--vision-dtypes") is { } dtypeFolder)
{
    LlavaDtypeBench.Run(Path.GetFullPath(dtypeFolder), Option("--golden") is { } g ? Path.GetFullPath(g) : null,
        Int("--decode-tokens", 8), Int("--rounds", 3));
    return 0;
}
if (Option("--clip-dtypes") is { } clipDtypeFolder)
{
    DtypeBench.Clip(Path.GetFullPath(clipDtypeFolder), Int("--rounds", 5));
    return 0;
}
if (Option("--sd-dtypes") is { } sdDtypeFolder)
{
    DtypeBench.Diffusion(Path.GetFullPath(sdDtypeFolder), Int("--size", 256), Int("--steps", 4), Int("--rounds", 3));
    return 0;
}
if (Option("--diffusion") is { } sdFolder)
{
    DiffusionBench.Run(new DiffusionBench.Options(sdFolder,
        Size: Int("--size", 512), Steps: Int("--steps", 2), TargetSteps: Int("--target-steps", 20),
        UnetIterations: Int("--unet-iters", 2), Device: Option("--device") ?? "cpu", DType: Option("--dtype") ?? "float32"));
    return 0;
}
if (Option("--soak") is { } soakModels)
{
    return await MultiModal.Tests.Bench.Soak.SoakBench.RunAsync(soakModels,
        TimeSpan.FromMinutes(double.Parse(Option("--minutes") ?? "30", CultureInfo.InvariantCulture)), Option("--out") ?? "tests/Bench/soak");
}
if (Option("--gateway") is { } gatewayClip)
{
    return await GatewayBench.RunAsync(gatewayClip, Int("--rounds", 5),
        TimeSpan.FromSeconds(double.Parse(Option("--window-seconds") ?? "2", CultureInfo.InvariantCulture)));
}
if (Option("--overload") is { } overloadModels)
{
    return await MultiModal.Tests.Bench.Overload.OverloadBench.RunAsync(overloadModels,
        TimeSpan.FromSeconds(double.Parse(Option("--seconds") ?? "60", CultureInfo.InvariantCulture)),
        (Option("--services") ?? "clip,vision,diffusion").Split(','));
}
if (Option("--load") is { } loadFolder)
{
    LoadBench.Run(Path.GetFullPath(loadFolder));
    return 0;
}
if (Option("--vision") is { } vision)
{
    VisionBench.Run(Path.GetFullPath(vision), Int("--decode-tokens", 8));
    return 0;
}

var model = Path.GetFullPath(Option("--model") ?? throw new ArgumentException("--model <clip folder>, --diffusion <sd folder> or --vision <llava folder> is required"));
var seconds = double.Parse(Option("--seconds") ?? "10", CultureInfo.InvariantCulture);
await ClipBench.RunAsync(model, TimeSpan.FromSeconds(seconds), Option("--dtype"), Option("--ort"));
return 0;

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int Int(string name, int fallback) => Option(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
