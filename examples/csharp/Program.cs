// MultiModal.Services from C#: dotnet run -- [address] [out-dir] [image]. Grpc.Net.Client with client stubs that
// Grpc.Tools generates from the project's protos. MULTIMODAL_API_KEY, when set, is sent as `authorization: Bearer <key>`.
using System.Text.RegularExpressions;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Common.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Contracts.Vision.V1;

var address = args.ElementAtOrDefault(0) ?? Environment.GetEnvironmentVariable("MULTIMODAL_ADDRESS") ?? "127.0.0.1:8080";
var outDir = args.ElementAtOrDefault(1) ?? "out";
var imagePath = args.ElementAtOrDefault(2) ?? "../red-circle.png";
var key = Environment.GetEnvironmentVariable("MULTIMODAL_API_KEY");
var headers = new Metadata();
if (!string.IsNullOrEmpty(key))
    headers.Add("authorization", $"Bearer {key}");

using var channel = GrpcChannel.ForAddress(address.Contains("://") ? address : $"http://{address}");
var clip = new ClipService.ClipServiceClient(channel);
try
{
    // 1. Text embeddings.
    var embedded = await clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a red circle", "a blue square" }, Normalize = true }, headers);
    var values = embedded.Embeddings[0].Values;
    Console.WriteLine($"EmbedTexts: {embedded.Embeddings.Count} embeddings, {values.Count} dims, " +
        $"first values [{string.Join(", ", values.Take(3).Select(v => ((double)v).ToString("F4")))}]");

    // 2. Zero-shot classification of an image file.
    var image = new Image { Data = ByteString.CopyFrom(await File.ReadAllBytesAsync(imagePath)) };
    var classified = await clip.ClassifyAsync(new ClassifyRequest { Image = image, Labels = { "red circle", "blue square", "cat" }, Template = "a photo of a {}" }, headers);
    var top = classified.Scores.MaxBy(s => s.Probability)!;
    Console.WriteLine($"Classify: top label \"{top.Label}\" p={(double)top.Probability:F4} of {classified.Scores.Count} labels");

    // 3. Streamed description: print each delta as it arrives.
    Console.Write("DescribeStream: ");
    var describe = new VisionService.VisionServiceClient(channel).DescribeStream(
        new DescribeStreamRequest { Images = { image }, Prompt = "What is in this picture?", MaxTokens = 12, Temperature = 0 }, headers);
    await foreach (var msg in describe.ResponseStream.ReadAllAsync())
    {
        Console.Write(msg.Delta);
        if (msg.FinishReason != FinishReason.Unspecified)
            Console.WriteLine($"\nDescribeStream: finish {msg.FinishReason.ToString().ToUpperInvariant()}, {msg.Usage.CompletionTokens} completion tokens");
    }

    // 4. Image generation, streamed: progress, previews (JPEG) and the final PNG.
    Directory.CreateDirectory(outDir);
    var generate = new DiffusionService.DiffusionServiceClient(channel).GenerateImage(
        new GenerateImageRequest { Prompt = "a red circle", Steps = 4, Seed = 42, Preview = new PreviewOptions { EveryNSteps = 2 } }, headers);
    await foreach (var e in generate.ResponseStream.ReadAllAsync())
    {
        switch (e.EventCase)
        {
            case GenerateImageResponse.EventOneofCase.Queued:
                Console.WriteLine($"GenerateImage: queued at position {e.Queued.Position}");
                break;
            case GenerateImageResponse.EventOneofCase.Progress:
                var line = $"GenerateImage: step {e.Progress.Step}/{e.Progress.TotalSteps}";
                for (var i = 0; i < (e.Progress.Preview?.Images.Count ?? 0); i++)
                {
                    var file = Path.Combine(outDir, $"preview-step{e.Progress.Step}-{i}.jpg");
                    await File.WriteAllBytesAsync(file, e.Progress.Preview!.Images[i].Data.ToByteArray());
                    line += $", preview {file}";
                }
                Console.WriteLine(line);
                break;
            case GenerateImageResponse.EventOneofCase.Result:
                for (var i = 0; i < e.Result.Images.Count; i++)
                {
                    var (img, file) = (e.Result.Images[i], Path.Combine(outDir, $"image-seed{e.Result.Seeds[i]}.png"));
                    await File.WriteAllBytesAsync(file, img.Data.ToByteArray());
                    Console.WriteLine($"GenerateImage: saved {file} ({img.Width}x{img.Height}, {e.Result.StepsRun} steps)");
                }
                break;
        }
    }

    // 5. An error: no texts. INVALID_ARGUMENT with ErrorInfo + BadRequest (AIP-193).
    try
    {
        await clip.EmbedTextsAsync(new EmbedTextsRequest(), headers);
        Console.WriteLine("Error case: unexpectedly succeeded");
        return 1;
    }
    catch (RpcException ex)
    {
        Console.Write("Error case: ");
        PrintError(ex);
    }
    return 0;
}
catch (RpcException ex)
{
    Console.Write("\nFailed: ");
    PrintError(ex);
    return 1;
}

// The status, then the AIP-193 details: Grpc.StatusProto decodes the grpc-status-details-bin trailer.
static void PrintError(RpcException ex)
{
    var code = Regex.Replace(ex.StatusCode.ToString(), "(?<=[a-z])(?=[A-Z])", "_").ToUpperInvariant();
    Console.WriteLine($"{code}: {ex.Status.Detail}");
    foreach (var detail in ex.GetRpcStatus()?.Details ?? [])
    {
        if (detail.TryUnpack<ErrorInfo>(out var info))
            Console.WriteLine($"  ErrorInfo reason={info.Reason} domain={info.Domain}");
        else if (detail.TryUnpack<BadRequest>(out var bad))
            foreach (var v in bad.FieldViolations)
                Console.WriteLine($"  BadRequest field={v.Field}: {v.Description}");
    }
}
