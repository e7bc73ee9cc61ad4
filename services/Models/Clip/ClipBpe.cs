using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace MultiModal.Models.Clip;

/// <summary>
/// CLIP's byte-level BPE on one pre-tokenized word (openai/CLIP simple_tokenizer.py bpe()): the word's UTF-8 bytes as
/// bytes_to_unicode symbols, "&lt;/w&gt;" appended to the last one, then merges applied lowest rank first.
/// <para>
/// Why not Microsoft.ML.Tokenizers' BpeTokenizer (ByteLevel, EndOfWordSuffix "&lt;/w&gt;"): it gives the same ids
/// (the golden tests cross-check it), but its merge loop grows faster than linearly with the word length: one
/// 100,000-letter "word" took 2.4 s ('a' × 100k) to 11 s ('é' × 100k), and a word cannot be cut short without
/// changing its ids. Here a heap of candidate pairs over a linked list of symbols keeps a word at O(n log n)
/// (~tens of ms for 100k bytes).
/// </para>
/// <para>
/// Heap order (rank, then leftmost position) equals openai's "merge every occurrence of the best pair, left to right"
/// because a merge's parts always come from lower-ranked merges (checked at load), so a merge never creates a pair that
/// outranks the one being applied.
/// </para>
/// </summary>
internal sealed class ClipBpe
{
    public const string EndOfWord = "</w>";
    private const int CachedWordLength = 64;
    private const int CacheCapacity = 100_000;

    /// <summary>(left id, right id) packed by <see cref="Pair"/> → (rank, merged id).</summary>
    private readonly Dictionary<long, (int Rank, int Merged)> _merges;
    private readonly int[] _byteIds = new int[256];
    private readonly int[] _byteEndOfWordIds = new int[256];
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    private ClipBpe(IReadOnlyDictionary<string, int> vocabulary, Dictionary<long, (int, int)> merges)
    {
        Vocabulary = vocabulary;
        _merges = merges;
        var byteSymbols = ByteSymbols();
        for (var b = 0; b < 256; b++)
        {
            _byteIds[b] = Lookup(vocabulary, byteSymbols[b]);
            _byteEndOfWordIds[b] = Lookup(vocabulary, byteSymbols[b] + EndOfWord);
        }
    }

    /// <summary>token → id, as in vocab.json.</summary>
    public IReadOnlyDictionary<string, int> Vocabulary { get; }

    /// <summary>Reads HF's vocab.json and merges.txt ("#version" line, then "left right" per line in rank order).</summary>
    public static ClipBpe Load(string vocabPath, string mergesPath)
    {
        var vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
            ?? throw new InvalidDataException($"{vocabPath} is empty");
        var merges = new Dictionary<long, (int, int)>();
        // Every merge part must be a byte symbol or the result of an earlier (lower-ranked) merge: the heap order relies on it.
        var made = ByteSymbols().SelectMany(s => new[] { Lookup(vocabulary, s), Lookup(vocabulary, s + EndOfWord) }).ToHashSet();
        var rank = 0;
        foreach (var line in File.ReadLines(mergesPath, Encoding.UTF8))
        {
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2) throw new InvalidDataException($"{mergesPath}: bad merge line '{line}'");
            var left = Lookup(vocabulary, parts[0]);
            var right = Lookup(vocabulary, parts[1]);
            var merged = Lookup(vocabulary, parts[0] + parts[1]);
            if (!made.Contains(left) || !made.Contains(right))
                throw new InvalidDataException($"{mergesPath}: merge {rank} '{line}' uses a token no earlier merge made");
            merges.TryAdd(Pair(left, right), (rank, merged));
            made.Add(merged);
            rank++;
        }
        return new ClipBpe(vocabulary, merges);
    }

    /// <summary>Ids of one word (no spaces; already lowercased and pre-tokenized).</summary>
    public int[] EncodeWord(string word)
    {
        if (word.Length <= CachedWordLength && _cache.TryGetValue(word, out var cached)) return cached;
        var ids = Merge(Encoding.UTF8.GetBytes(word));
        if (word.Length <= CachedWordLength)
        {
            if (_cache.Count >= CacheCapacity) _cache.Clear(); // bounded: a long-running service sees unbounded text
            _cache[word] = ids;
        }
        return ids;
    }

    private int[] Merge(byte[] bytes)
    {
        var n = bytes.Length;
        if (n == 0) return [];
        var symbols = new int[n];
        for (var i = 0; i < n; i++) symbols[i] = _byteIds[bytes[i]];
        symbols[n - 1] = _byteEndOfWordIds[bytes[n - 1]];
        if (n == 1) return symbols;

        // Doubly linked list over positions; a removed position is marked by next == Removed.
        const int Removed = -2;
        var next = new int[n];
        var prev = new int[n];
        for (var i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }

        // Candidates keyed by (rank, left position); stale ones are skipped when popped.
        var heap = new PriorityQueue<int, long>();
        void Push(int left)
        {
            if (left < 0 || next[left] < 0) return;
            if (_merges.TryGetValue(Pair(symbols[left], symbols[next[left]]), out var m))
                heap.Enqueue(left, ((long)m.Rank << 32) | (uint)left);
        }
        for (var i = 0; i < n - 1; i++) Push(i);

        while (heap.TryDequeue(out var left, out var priority))
        {
            if (next[left] < 0) continue; // removed, or the last symbol now
            var right = next[left];
            if (!_merges.TryGetValue(Pair(symbols[left], symbols[right]), out var m) || m.Rank != (int)(priority >> 32)) continue;

            symbols[left] = m.Merged;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            next[right] = Removed;
            Push(prev[left]);
            Push(left);
        }

        var result = new List<int>();
        for (var i = 0; i >= 0; i = next[i]) result.Add(symbols[i]);
        return [.. result];
    }

    /// <summary>openai's bytes_to_unicode: printable Latin-1 bytes map to themselves, the rest to U+0100 onwards.</summary>
    internal static string[] ByteSymbols()
    {
        var symbols = new string[256];
        var extra = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            symbols[b] = ((char)(printable ? b : 256 + extra++)).ToString();
        }
        return symbols;
    }

    private static long Pair(int left, int right) => ((long)left << 32) | (uint)right;

    private static int Lookup(IReadOnlyDictionary<string, int> vocabulary, string token) =>
        vocabulary.TryGetValue(token, out var id) ? id : throw new InvalidDataException($"token '{token}' is not in vocab.json");
}
