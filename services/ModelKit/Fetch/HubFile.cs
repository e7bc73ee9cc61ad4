namespace MultiModal.ModelKit.Fetch;

/// <summary>
/// One file of a hub repository at a commit, as the hub lists it: LFS files carry the SHA-256 of their content, other
/// files the git blob SHA-1 (of "blob {size}\0" + content). Either one identifies the bytes exactly.
/// </summary>
public sealed record HubFile(string Path, long Size, string? Sha256, string? GitBlobSha1)
{
    /// <summary>"sha256:&lt;hex&gt;" or "git-sha1:&lt;hex&gt;": what the bytes must hash to.</summary>
    public string Digest => Sha256 is not null ? $"sha256:{Sha256}" : $"git-sha1:{GitBlobSha1}";

    /// <summary>Whether the file at <paramref name="localPath"/> has exactly this size and digest.</summary>
    public bool Matches(string localPath) =>
        File.Exists(localPath) && new FileInfo(localPath).Length == Size && FileDigest.Of(localPath, this) == Digest;
}
