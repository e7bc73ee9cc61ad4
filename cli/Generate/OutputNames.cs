using System.Text;
using MultiModal.Contracts.Diffusion.V1;

namespace MultiModal.Cli.Generate;

/// <summary>
/// Where results and previews go. Without <c>-o</c>: <c>&lt;prompt slug&gt;-&lt;seed&gt;.png</c> in the current folder
/// (<c>a-red-circle-42.png</c>); with <c>-o FILE</c> and one image: FILE; with several: FILE's stem, <c>-&lt;seed&gt;</c>
/// and its extension. The extension picks the encoding (.jpg/.jpeg JPEG, .webp WebP, else PNG with its parameters chunk).
/// </summary>
internal sealed class OutputNames(string prompt, string? output)
{
    private const int MaxSlugLength = 48;

    public OutputFormat Format => Path.GetExtension(output ?? ".png").ToLowerInvariant() switch
    {
        ".jpg" or ".jpeg" => OutputFormat.Jpeg,
        ".webp" => OutputFormat.Webp,
        _ => OutputFormat.Png,
    };

    public string Result(ulong seed, int count)
    {
        if (output is null)
            return $"{Slug(prompt)}-{seed}.png";
        if (count == 1)
            return output;
        var folder = Path.GetDirectoryName(output);
        var name = $"{Path.GetFileNameWithoutExtension(output)}-{seed}{Path.GetExtension(output)}";
        return string.IsNullOrEmpty(folder) ? name : Path.Combine(folder, name);
    }

    /// <summary><c>DIR/&lt;slug&gt;-step007.jpg</c> (<c>-&lt;i&gt;</c> added per image when there are several).</summary>
    public string Preview(string folder, uint step, int index, int count) =>
        Path.Combine(folder, $"{Slug(prompt)}-step{step:D3}{(count > 1 ? $"-{index}" : "")}.jpg");

    /// <summary>Lower-case letters and digits, runs of anything else as one '-', at most 48 characters; "image" if empty.</summary>
    public static string Slug(string text)
    {
        var slug = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
                slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-')
                slug.Append('-');
            if (slug.Length >= MaxSlugLength)
                break;
        }
        var trimmed = slug.ToString().Trim('-');
        return trimmed.Length > 0 ? trimmed : "image";
    }
}
