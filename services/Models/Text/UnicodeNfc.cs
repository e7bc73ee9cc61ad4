using System.Text;

namespace MultiModal.Models.Text;

/// <summary>
/// Unicode NFC (canonical decomposition, canonical ordering, canonical composition; UAX #15) from CPython 3.11's
/// Unicode 14.0 tables. Not <see cref="string.Normalize()"/>: this repo runs with InvariantGlobalization, where .NET
/// leaves non-ASCII text unnormalised, and the tables pin the Unicode version the reference (ftfy) used.
/// </summary>
public static class UnicodeNfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<Tables> Data = new(LoadTables);

    /// <summary>NFC of <paramref name="text"/>; lone surrogates pass through unchanged.</summary>
    public static string Normalize(string text)
    {
        // Below U+0300 there are no combining marks, and every precomposed letter recomposes to itself.
        var firstCandidate = text.AsSpan().IndexOfAnyExceptInRange('\0', '\u02FF');
        if (firstCandidate < 0) return text;

        var tables = Data.Value;
        var decomposed = new List<int>(text.Length + 8);
        foreach (var cp in CodePoints(text)) Decompose(cp, tables, decomposed);
        SortCanonically(decomposed, tables);
        var composed = Compose(decomposed, tables);

        var sb = new StringBuilder(text.Length);
        foreach (var cp in composed) AppendCodePoint(sb, cp);
        return sb.ToString();
    }

    private static void Decompose(int cp, Tables tables, List<int> output)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            var s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        if (tables.Decomposition.TryGetValue(cp, out var parts))
        {
            foreach (var part in parts) Decompose(part, tables, output);
            return;
        }
        output.Add(cp);
    }

    /// <summary>Stable sort of each run of non-starters by combining class.</summary>
    private static void SortCanonically(List<int> cps, Tables tables)
    {
        for (var i = 1; i < cps.Count; i++)
        {
            var cc = Ccc(cps[i], tables);
            if (cc == 0) continue;
            for (var j = i; j > 0; j--)
            {
                var prev = Ccc(cps[j - 1], tables);
                if (prev <= cc) break;
                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
            }
        }
    }

    private static List<int> Compose(List<int> cps, Tables tables)
    {
        var result = new List<int>(cps.Count);
        var starter = -1;
        var lastClass = 0;
        foreach (var cp in cps)
        {
            var cc = Ccc(cp, tables);
            // Blocked unless adjacent to the starter or every mark in between has a lower class (the last
            // appended one has the highest, after canonical ordering).
            var unblocked = starter >= 0 && (result.Count - 1 == starter || (lastClass != 0 && lastClass < cc));
            if (unblocked && TryCompose(result[starter], cp, tables, out var composite))
            {
                result[starter] = composite;
                continue;
            }
            if (cc == 0) starter = result.Count;
            lastClass = cc;
            result.Add(cp);
        }
        return result;
    }

    private static bool TryCompose(int first, int second, Tables tables, out int composite)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
        {
            composite = SBase + ((first - LBase) * VCount + (second - VBase)) * TCount;
            return true;
        }
        if (first is >= SBase and < SBase + SCount && (first - SBase) % TCount == 0
            && second is > TBase and < TBase + TCount)
        {
            composite = first + (second - TBase);
            return true;
        }
        return tables.Composition.TryGetValue(((long)first << 21) | (uint)second, out composite);
    }

    private static int Ccc(int cp, Tables tables) => tables.CombiningClass.TryGetValue(cp, out var c) ? c : 0;

    internal static IEnumerable<int> CodePoints(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                yield return char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }
            else
            {
                yield return text[i]; // lone surrogates kept as they are, like Python's str
            }
        }
    }

    internal static void AppendCodePoint(StringBuilder sb, int cp)
    {
        if (cp < 0x10000) sb.Append((char)cp);
        else sb.Append(char.ConvertFromUtf32(cp));
    }

    private sealed record Tables(
        Dictionary<int, int> CombiningClass, Dictionary<int, int[]> Decomposition, Dictionary<long, int> Composition);

    private static Tables LoadTables()
    {
        using var doc = TextTables.Load("unicode-14-tables.json");
        var root = doc.RootElement;
        var ccc = new Dictionary<int, int>();
        foreach (var e in root.GetProperty("combiningClass").EnumerateArray())
            ccc[e[0].GetInt32()] = e[1].GetInt32();
        var decomposition = new Dictionary<int, int[]>();
        foreach (var e in root.GetProperty("canonicalDecomposition").EnumerateArray())
            decomposition[e[0].GetInt32()] = e.EnumerateArray().Skip(1).Select(x => x.GetInt32()).ToArray();
        var composition = new Dictionary<long, int>();
        foreach (var e in root.GetProperty("primaryComposites").EnumerateArray())
            composition[((long)e[0].GetInt32() << 21) | (uint)e[1].GetInt32()] = e[2].GetInt32();
        return new Tables(ccc, decomposition, composition);
    }
}
