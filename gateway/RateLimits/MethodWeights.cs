using Microsoft.Extensions.Options;
using MultiModal.Gateway.FrontDoor;

namespace MultiModal.Gateway.RateLimits;

/// <summary>
/// Tokens a call takes from its key's bucket, from <c>Gateway:MethodWeights</c>: by method name
/// (<c>GenerateImage</c>: the last path segment), else by the longest matching prefix pattern (<c>Describe*</c>), else 1.
/// </summary>
public sealed class MethodWeights
{
    private readonly Dictionary<string, int> _exact = new(StringComparer.Ordinal);
    private readonly (string Prefix, int Weight)[] _prefixes;

    public MethodWeights(IOptions<FrontDoorOptions> options)
    {
        var prefixes = new List<(string, int)>();
        foreach (var (pattern, weight) in options.Value.MethodWeights)
        {
            if (weight < 1)
                throw new OptionsValidationException(nameof(FrontDoorOptions), typeof(FrontDoorOptions),
                    [$"Gateway:MethodWeights:{pattern} must be >= 1; got {weight}."]);
            if (pattern.EndsWith('*'))
                prefixes.Add((pattern[..^1], weight));
            else
                _exact[pattern] = weight;
        }
        _prefixes = [.. prefixes.OrderByDescending(p => p.Item1.Length)];
    }

    /// <summary>The weight of a call to <paramref name="path"/>, e.g. <c>/multimodal.diffusion.v1.DiffusionService/GenerateImage</c>.</summary>
    public int Of(PathString path)
    {
        var value = path.Value.AsSpan();
        var method = value[(value.LastIndexOf('/') + 1)..];
        var lookup = _exact.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(method, out var weight))
            return weight;
        foreach (var (prefix, prefixWeight) in _prefixes)
        {
            if (method.StartsWith(prefix, StringComparison.Ordinal))
                return prefixWeight;
        }
        return 1;
    }
}
