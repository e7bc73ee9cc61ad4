using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using MultiModal.Gateway.FrontDoor;
using MultiModal.Gateway.RateLimits;

namespace MultiModal.Gateway.ApiKeys;

/// <summary>
/// The API keys the gateway accepts: inline ones from <c>Gateway:ApiKeys</c> plus those of <c>Gateway:ApiKeysFile</c>,
/// re-read whenever anything changes in the file's directory (a Kubernetes Secret volume swaps a symlinked
/// <c>..data</c> folder rather than writing the file, so the folder is watched, not the file). A file that fails to
/// load at start stops start-up; one that fails on reload keeps the previous keys and logs a warning.
/// </summary>
public sealed class ApiKeyStore : IDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private readonly FrontDoorOptions _options;
    private readonly ILogger<ApiKeyStore> _logger;
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer? _debounce;
    private readonly Lock _reloadLock = new();
    private volatile ApiKey[] _keys;
    private string? _fileText;

    public ApiKeyStore(IOptions<FrontDoorOptions> options, ILogger<ApiKeyStore> logger)
    {
        _options = options.Value;
        _logger = logger;
        Enabled = _options.ApiKeys.Count > 0 || !string.IsNullOrWhiteSpace(_options.ApiKeysFile);
        if (string.IsNullOrWhiteSpace(_options.ApiKeysFile))
        {
            _keys = Build([], "configuration");
            return;
        }

        var path = Path.GetFullPath(_options.ApiKeysFile);
        _fileText = File.ReadAllText(path);
        _keys = Build(Parse(_fileText, path), path);

        // Editors and Secret updates come as bursts of events: reload once, 200 ms after the last one.
        _debounce = new Timer(_ => Reload(path));
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        FileSystemEventHandler changed = (_, _) => _debounce.Change(TimeSpan.FromMilliseconds(200), Timeout.InfiniteTimeSpan);
        _watcher.Changed += changed;
        _watcher.Created += changed;
        _watcher.Deleted += changed;
        _watcher.Renamed += (_, _) => changed(null!, null!);
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>Keys are required (a keys file or at least one inline key is configured).</summary>
    public bool Enabled { get; }

    /// <summary>The keys in force now.</summary>
    public IReadOnlyList<ApiKey> Keys => _keys;

    /// <summary>Raised after a reload changed the keys.</summary>
    public event Action<IReadOnlyList<ApiKey>>? Reloaded;

    /// <summary>
    /// Checks the call's key: <c>authorization: Bearer &lt;key&gt;</c>, else <c>x-api-key</c>. The SHA-256 of the
    /// presented key is compared in constant time with every stored hash (no early exit, no lookup by value).
    /// </summary>
    public ApiKeyCheck Check(HttpRequest request, out ApiKey? key)
    {
        key = null;
        if (!Enabled)
            return ApiKeyCheck.Off;
        var presented = PresentedKey(request);
        if (presented.IsEmpty)
            return ApiKeyCheck.Missing;

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var maxBytes = Encoding.UTF8.GetMaxByteCount(presented.Length);
        byte[]? rented = maxBytes > 512 ? ArrayPool<byte>.Shared.Rent(maxBytes) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[512];
        var length = Encoding.UTF8.GetBytes(presented, utf8);
        SHA256.HashData(utf8[..length], hash);
        if (rented is not null)
            ArrayPool<byte>.Shared.Return(rented, clearArray: true);
        else
            CryptographicOperations.ZeroMemory(utf8[..length]);

        foreach (var candidate in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(candidate.Hash, hash))
                key = candidate;
        }
        return key is null ? ApiKeyCheck.Invalid : ApiKeyCheck.Valid;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce?.Dispose();
    }

    private static ReadOnlySpan<char> PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers[HeaderNames.Authorization].ToString().AsSpan().Trim();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim();
        return request.Headers["x-api-key"].ToString().AsSpan().Trim();
    }

    private void Reload(string path)
    {
        lock (_reloadLock)
        {
            try
            {
                var text = File.ReadAllText(path);
                if (text == _fileText)
                    return;
                _keys = Build(Parse(text, path), path);
                _fileText = text;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or JsonException)
            {
                GatewayLog.ApiKeysReloadFailed(_logger, path, ex.Message);
                return;
            }
        }
        Reloaded?.Invoke(_keys);
    }

    private static List<ApiKeyEntry> Parse(string text, string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ApiKeysFileContent>(text, Json)?.Keys
                   ?? throw new FormatException($"{path}: expected {{\"keys\": [...]}}.");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path}: not a keys file ({ex.Message}).", ex);
        }
    }

    private ApiKey[] Build(IEnumerable<ApiKeyEntry> fromFile, string source)
    {
        var defaults = _options.RateLimits;
        var keys = new List<ApiKey>();
        foreach (var entry in _options.ApiKeys.Concat(fromFile))
        {
            if (string.IsNullOrWhiteSpace(entry.Name))
                throw new FormatException($"{source}: an API key has no name.");
            if (keys.Any(k => k.Name == entry.Name))
                throw new FormatException($"{source}: API key name '{entry.Name}' is used twice.");
            byte[] hash;
            try
            {
                hash = Convert.FromHexString(entry.Sha256.Trim());
            }
            catch (FormatException)
            {
                hash = [];
            }
            if (hash.Length != SHA256.HashSizeInBytes)
                throw new FormatException($"{source}: API key '{entry.Name}': sha256 must be 64 hex digits (the SHA-256 of the key).");
            var limits = new KeyLimits(
                entry.RequestsPerSecond ?? defaults.RequestsPerSecond, entry.Burst ?? defaults.Burst, entry.MaxConcurrent ?? defaults.MaxConcurrent);
            if (limits.RequestsPerSecond < 0 || limits.Burst < 0 || limits.MaxConcurrent < 0 || (limits.RequestsPerSecond > 0 && limits.Burst == 0))
                throw new FormatException($"{source}: API key '{entry.Name}': limits must be >= 0, and a rate needs a burst >= 1.");
            keys.Add(new ApiKey(entry.Name, hash, limits));
        }
        if (Enabled)
            GatewayLog.ApiKeysLoaded(_logger, keys.Count, source);
        return [.. keys];
    }
}
