// Port of diffusers v0.25.1 StableDiffusionPipeline.encode_prompt for one prompt string and num_images_per_prompt
// copies: padding="max_length" + truncation, the text encoder called without attention mask (SD 1.x/2.x configs have
// no use_attention_mask), clip skip applied to the prompt only (0.25.1 encodes the negative prompt with the last
// layer whatever clip_skip says), and [negative; prompt] concatenated for classifier-free guidance.
using MultiModal.Models.Clip;
using static TorchSharp.torch;

namespace MultiModal.Models.Pipelines;

/// <summary>The text conditioning of a generation.</summary>
/// <param name="Embeddings">(2n, 77, d) = [negative × n; prompt × n] with guidance, else (n, 77, d), in the UNet's dtype.</param>
/// <param name="Truncated">The prompt or the negative prompt was cut to the tokenizer's 77 tokens.</param>
internal sealed record PromptEmbeddings(Tensor Embeddings, bool Truncated);

internal static class PromptEncoding
{
    public static PromptEmbeddings Encode(ClipTokenizer tokenizer, ClipTextModel textEncoder, string prompt, string negativePrompt,
        int imagesPerPrompt, bool guidance, int clipSkip, Device device, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var (positive, promptTruncated) = EncodeOne(tokenizer, textEncoder, prompt, clipSkip, device);
        var embeddings = Repeat(positive, imagesPerPrompt);                                             // (n, 77, d)
        var negativeTruncated = false;
        if (guidance)
        {
            var (negative, truncated) = EncodeOne(tokenizer, textEncoder, negativePrompt, clipSkip: 0, device);
            negativeTruncated = truncated;
            embeddings = cat([Repeat(negative, imagesPerPrompt), embeddings], dim: 0);                  // (2n, 77, d)
        }
        return new PromptEmbeddings(embeddings.to(dtype).MoveToOuterDisposeScope(), promptTruncated || negativeTruncated);
    }

    private static (Tensor Embeddings, bool Truncated) EncodeOne(ClipTokenizer tokenizer, ClipTextModel textEncoder, string text, int clipSkip, Device device)
    {
        var tokens = tokenizer.Encode(text);
        var ids = tokenizer.ToPaddedIds(tokens, out _);
        var input = tensor(ids, [1, ids.Length], ScalarType.Int64, device);                           // (1, 77)
        return (textEncoder.EncodePrompt(input, attentionMask: null, clipSkip), tokens.Truncated);     // (1, 77, d)
    }

    // prompt_embeds.repeat(1, n, 1).view(n, seq, -1): n copies of the one row
    private static Tensor Repeat(Tensor embeddings, int n) => n == 1 ? embeddings : embeddings.repeat(n, 1, 1);
}
