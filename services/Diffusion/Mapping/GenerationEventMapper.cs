using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Core.Inference.Jobs;
using MultiModal.Models.Imaging;
using MultiModal.Models.Pipelines;
using WireImage = MultiModal.Contracts.Common.V1.Image;
using PreviewFrame = MultiModal.Models.Pipelines.PreviewFrame;
using WirePreviewFrame = MultiModal.Contracts.Diffusion.V1.PreviewFrame;

namespace MultiModal.Diffusion.Mapping;

/// <summary>
/// Job events → stream messages. Runs on the request thread, so image encoding (previews and results) never occupies
/// the model's worker, and a preview that was dropped for a slow client is never encoded at all.
/// </summary>
public static class GenerationEventMapper
{
    public static GenerateImageResponse ToWire(JobEvent e, DiffusionJob job, string modelName, DiffusionOptions o) => e switch
    {
        JobQueued queued => new GenerateImageResponse { Queued = ToQueued(queued) },
        JobProgress<PreviewFrame> progress => new GenerateImageResponse { Progress = ToProgress(progress, o) },
        JobCompleted<GenerationOutput> completed => new GenerateImageResponse { Result = ToResult(completed, job, modelName, o) },
        _ => throw new ArgumentOutOfRangeException(nameof(e), e, "Unknown job event."),
    };

    public static Queued ToQueued(JobQueued queued) => new()
    {
        Position = (uint)queued.Position,
        EstimatedWait = queued.EstimatedWait is { } wait ? Duration.FromTimeSpan(wait) : null,
    };

    public static Progress ToProgress(JobProgress<PreviewFrame> progress, DiffusionOptions o) => new()
    {
        Step = (uint)progress.Step,
        TotalSteps = (uint)progress.TotalSteps,
        Elapsed = Duration.FromTimeSpan(progress.Elapsed),
        Eta = Duration.FromTimeSpan(progress.Eta),
        Preview = progress.Preview?.Take() is { } frame ? ToPreview(frame, o) : null,
    };

    /// <summary>Preview images as JPEG (cheap to encode and small; previews are approximate anyway), latents as raw float32.</summary>
    public static WirePreviewFrame ToPreview(PreviewFrame frame, DiffusionOptions o)
    {
        var wire = new WirePreviewFrame { Images = { frame.Images.Select(image => ToWireImage(image, OutputFormat.Jpeg, o.OutputQuality)) } };
        if (frame.Latents is { } values)
        {
            wire.Latents = new LatentTensor
            {
                Shape = { frame.LatentShape ?? [values.Length] },
                Dtype = "float32",
                Data = ByteString.CopyFrom(LittleEndianBytes(values)),
            };
        }
        return wire;
    }

    public static Result ToResult(JobCompleted<GenerationOutput> completed, DiffusionJob job, string modelName, DiffusionOptions o)
    {
        var output = completed.Result;
        var request = job.Request;
        return new Result
        {
            Images =
            {
                output.Images.Select((image, i) => job.OutputFormat == OutputFormat.Png
                    ? ToWirePng(image, GenerationParameters.Format(request, request.Seeds[i], output.SchedulerUsed, modelName))
                    : ToWireImage(image, job.OutputFormat, o.OutputQuality)),
            },
            Seeds = { request.Seeds },
            Timings = new Timings
            {
                Queued = Duration.FromTimeSpan(completed.Queued),
                EncodePrompt = Duration.FromTimeSpan(output.EncodePrompt),
                Denoise = Duration.FromTimeSpan(output.Denoise),
                Decode = Duration.FromTimeSpan(output.Decode),
                Total = Duration.FromTimeSpan(completed.Ran),
                StartTime = Timestamp.FromDateTime(completed.StartedUtc),
                EndTime = Timestamp.FromDateTime(completed.FinishedUtc),
            },
            PromptTruncated = output.PromptTruncated,
            Scheduler = SchedulerNames.ToWire(output.SchedulerUsed),
            StepsRun = (uint)output.StepsRun,
        };
    }

    private static WireImage ToWirePng(DecodedImage image, string parameters) =>
        Wire(image, ImageEncoder.EncodePng(image, GenerationParameters.Keyword, parameters), "image/png");

    private static WireImage ToWireImage(DecodedImage image, OutputFormat format, int quality) => format switch
    {
        OutputFormat.Jpeg => Wire(image, ImageEncoder.EncodeJpeg(image, quality), "image/jpeg"),
        OutputFormat.Webp => Wire(image, ImageEncoder.EncodeWebp(image, quality), "image/webp"),
        _ => Wire(image, ImageEncoder.EncodePng(image), "image/png"),
    };

    private static WireImage Wire(DecodedImage image, byte[] data, string mimeType) => new()
    {
        Data = ByteString.CopyFrom(data),
        MimeType = mimeType,
        Width = (uint)image.Width,
        Height = (uint)image.Height,
    };

    // The wire says little-endian; MemoryMarshal gives the machine's order, which is little-endian on every target we build.
    private static byte[] LittleEndianBytes(float[] values)
    {
        var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
            for (var i = 0; i < bytes.Length; i += sizeof(float))
                Array.Reverse(bytes, i, sizeof(float));
        return bytes;
    }
}
