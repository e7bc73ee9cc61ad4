using Grpc.Core;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Core.Errors;
using MultiModal.Diffusion;
using MultiModal.Diffusion.Mapping;
using MultiModal.Models.Errors;
using MultiModal.Models.Pipelines;

namespace MultiModal.Tests.Fuzz.Targets;

/// <summary>
/// The Diffusion service's request mapping with its default options: the bytes are a GenerateImageRequest →
/// <see cref="GenerateImageMapper.ToJob"/> with an SD 1.5 pipeline's rules (512 px native, VAE factor 8, 12 text
/// encoder layers, 4 latent channels). Clean rejections: INVALID_ARGUMENT, as for <see cref="ClipRequestTarget"/>.
/// </summary>
public sealed class DiffusionRequestTarget : IFuzzTarget
{
    public const string TargetName = "diffusion-request";
    private readonly GenerationRules _rules = new(NativeWidth: 512, NativeHeight: 512, VaeScaleFactor: 8, TextEncoderLayers: 12, LatentChannels: 4);
    private readonly DiffusionOptions _options = new();

    public string Name => TargetName;

    public string Description => "GenerateImageRequest bytes → GenerateImageMapper.ToJob (SD 1.5 rules); rejects with INVALID_ARGUMENT";

    public void Run(ReadOnlySpan<byte> input)
    {
        if (!ProtoInput.TryParse(GenerateImageRequest.Parser, input, out var request))
            return;
        try
        {
            GenerateImageMapper.ToJob(request, _rules, _options);
        }
        catch (InferenceException e) when (e.Code == StatusCode.InvalidArgument) { }
        catch (InputRejectedException) { }
    }
}
