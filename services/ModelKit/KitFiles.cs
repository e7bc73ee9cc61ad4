using System.Text.Json;
using System.Text.Json.Nodes;

namespace MultiModal.ModelKit;

internal static class KitFiles
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void WriteJson(string path, JsonNode node) => File.WriteAllText(path, node.ToJsonString(Indented) + "\n");

    public static void CopyAsset(string relative, string destination) =>
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Assets", relative), destination, overwrite: true);
}
