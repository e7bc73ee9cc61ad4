using System.Text.RegularExpressions;

namespace MultiModal.Models.Weights;

/// <summary>
/// The one place where checkpoint keys are renamed: modules always carry the current reference names, and these map a
/// module key to the name an older file stores it under (as diffusers' modeling_utils does on load).
/// </summary>
public static partial class KeyRemaps
{
    /// <summary>
    /// VAE mid-block attention saved by diffusers &lt; 0.21 (the deprecated AttentionBlock, e.g. SD 1.5's published VAE):
    /// <c>query/key/value/proj_attn</c> for today's <c>to_q/to_k/to_v/to_out.0</c>. Keys the checkpoint already has
    /// under the current name are kept, so one function serves old and new files.
    /// </summary>
    public static Func<string, string> VaeLegacyAttention(SafeTensorsCheckpoint checkpoint) => key =>
    {
        if (checkpoint.Entries.ContainsKey(key))
            return key;
        var match = MidBlockAttention().Match(key);
        if (!match.Success)
            return key;
        var legacy = match.Groups["proj"].Value switch
        {
            "to_q" => "query",
            "to_k" => "key",
            "to_v" => "value",
            "to_out.0" => "proj_attn",
            _ => null,
        };
        return legacy is null ? key : $"{match.Groups["prefix"].Value}{legacy}.{match.Groups["param"].Value}";
    };

    [GeneratedRegex(@"^(?<prefix>(?:encoder|decoder)\.mid_block\.attentions\.\d+\.)(?<proj>to_q|to_k|to_v|to_out\.0)\.(?<param>weight|bias)$")]
    private static partial Regex MidBlockAttention();
}
