using System.Text;

namespace MultiModal.Models.Text;

/// <summary>
/// CPython 3.11 string semantics the CLIP reference relies on: <c>str.lower()</c> (full lowercase mapping with the
/// Final_Sigma rule, Unicode 14 tables), <c>str.isspace()</c> and the <c>regex</c> module's <c>\s</c>.
/// .NET's ToLowerInvariant differs (no İ → i̇, no final sigma) and its \s set is not Python's.
/// </summary>
public static class PythonText
{
    private const int CapitalSigma = 0x3A3, SmallSigma = 0x3C3, FinalSigma = 0x3C2;

    private static readonly Lazy<CaseTables> Data = new(LoadTables);

    /// <summary>Python <c>str.isspace()</c> for one code point (bidi WS/B/S or category Zs).</summary>
    public static bool IsSpace(int cp) => cp is (>= 0x09 and <= 0x0D) or (>= 0x1C and <= 0x20) || IsUnicodeSpace(cp);

    /// <summary>The <c>regex</c> module's <c>\s</c>: the Unicode White_Space property.</summary>
    public static bool IsWhiteSpace(int cp) => cp is (>= 0x09 and <= 0x0D) or 0x20 || IsUnicodeSpace(cp);

    private static bool IsUnicodeSpace(int cp) =>
        cp is 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    /// <summary>Python <c>str.lower()</c>.</summary>
    public static string Lower(string text)
    {
        var tables = Data.Value;
        var cps = UnicodeNfc.CodePoints(text).ToArray();
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < cps.Length; i++)
        {
            var cp = cps[i];
            if (cp < 0x80)
                sb.Append(cp is >= 'A' and <= 'Z' ? (char)(cp + 32) : (char)cp);
            else if (cp == CapitalSigma)
                sb.Append((char)(IsFinalSigma(cps, i, tables) ? FinalSigma : SmallSigma));
            else if (tables.Lowercase.TryGetValue(cp, out var lower))
                sb.Append(lower);
            else
                UnicodeNfc.AppendCodePoint(sb, cp);
        }
        return sb.ToString();
    }

    /// <summary>CPython's handle_capital_sigma: cased (case-ignorable)* Σ, not followed by (case-ignorable)* cased.</summary>
    private static bool IsFinalSigma(int[] cps, int i, CaseTables t)
    {
        var j = i - 1;
        while (j >= 0 && t.CaseIgnorable.Contains(cps[j])) j--;
        if (j < 0 || !t.Cased.Contains(cps[j])) return false;
        j = i + 1;
        while (j < cps.Length && t.CaseIgnorable.Contains(cps[j])) j++;
        return j == cps.Length || !t.Cased.Contains(cps[j]);
    }

    private sealed record CaseTables(Dictionary<int, string> Lowercase, CodePointSet Cased, CodePointSet CaseIgnorable);

    private static CaseTables LoadTables()
    {
        using var doc = TextTables.Load("unicode-14-tables.json");
        var root = doc.RootElement;
        var lower = new Dictionary<int, string>();
        foreach (var e in root.GetProperty("lowercase").EnumerateArray())
        {
            var sb = new StringBuilder();
            foreach (var cp in e.EnumerateArray().Skip(1)) UnicodeNfc.AppendCodePoint(sb, cp.GetInt32());
            lower[e[0].GetInt32()] = sb.ToString();
        }
        return new CaseTables(
            lower, TextTables.ReadRanges(root.GetProperty("cased")), TextTables.ReadRanges(root.GetProperty("caseIgnorable")));
    }
}
