using System.Security.Cryptography;
using System.Text;

namespace MultiModal.ModelKit.Fetch;

/// <summary>The digests the hub publishes: SHA-256 of an LFS file's content, git's blob SHA-1 of any other file.</summary>
public static class FileDigest
{
    /// <summary>The local file's digest in the kind <paramref name="expected"/> uses ("sha256:…" or "git-sha1:…").</summary>
    public static string Of(string path, HubFile expected) =>
        expected.Sha256 is not null ? $"sha256:{Sha256(path)}" : $"git-sha1:{GitBlobSha1(path)}";

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    // git hash-object: SHA-1 over "blob <size>\0" followed by the content.
    public static string GitBlobSha1(string path)
    {
        using var stream = File.OpenRead(path);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
            sha1.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }
}
