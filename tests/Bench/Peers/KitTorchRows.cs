using System.Text.Json;

namespace MultiModal.Tests.Bench.Peers;

/// <summary>PyTorch rows from the peer kit's logs (LOGDIR/torch.jsonl, written by `run_quiet.sh`): the median of the
/// rows' medians per (kind, batch), smoke rows left out. They come from another window than this run: context only.</summary>
public sealed class KitTorchRows
{
    private readonly Dictionary<(string Kind, int Batch), double> medians;

    private KitTorchRows(Dictionary<(string, int), double> medians) => this.medians = medians;

    public static KitTorchRows Empty { get; } = new([]);

    public static KitTorchRows Load(string logDir)
    {
        var path = Path.Combine(logDir, "torch.jsonl");
        if (!File.Exists(path)) throw new FileNotFoundException($"no {path}: run ../shared/peer-bench/anchors/run_quiet.sh first", path);
        var rows = new Dictionary<(string, int), List<double>>();
        foreach (var line in File.ReadLines(path).Where(l => l.Trim().Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            if (r.TryGetProperty("smoke", out var smoke) && smoke.ValueKind == JsonValueKind.True) continue;
            if (!r.TryGetProperty("kind", out var kind) || !r.TryGetProperty("batch", out var batch) || !r.TryGetProperty("median_s", out var median))
                continue;
            var key = (kind.GetString() ?? "", batch.GetInt32());
            if (!rows.TryGetValue(key, out var list)) rows[key] = list = [];
            list.Add(median.GetDouble());
        }
        return new KitTorchRows(rows.ToDictionary(kv => kv.Key, kv => Interleaved.Median(kv.Value)));
    }

    public bool Any => medians.Count > 0;

    public double? Seconds(string kind, int batch) => medians.TryGetValue((kind, batch), out var s) ? s : null;
}
