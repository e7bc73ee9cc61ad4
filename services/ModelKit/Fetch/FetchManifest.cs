using System.Text.Json;

namespace MultiModal.ModelKit.Fetch;

/// <summary>
/// What a fetch put in a folder (<c>.hub-fetch.json</c>): the repository, the commit, and each file's size and digest,
/// so <c>--offline</c> can verify the folder with no network.
/// </summary>
public sealed record FetchManifest(string Repo, string Revision, string Commit, IReadOnlyList<HubFile> Files)
{
    public const string FileName = ".hub-fetch.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static FetchManifest? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<FetchManifest>(File.ReadAllText(path), Json) : null;
    }

    /// <summary>Written to a temporary name and renamed, so a reader never sees half a manifest.</summary>
    public void Write(string folder)
    {
        var path = Path.Combine(folder, FileName);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
