using System.Globalization;
using Spectre.Console;

namespace MultiModal.Cli.Commands;

/// <summary>Spectre tables on stdout, shared by classify, rank, models and health.</summary>
internal static class Tables
{
    public static Table Create(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
            table.AddColumn(new TableColumn(column));
        return table;
    }

    /// <summary>A probability as 0.1234 and a bar of up to 20 cells.</summary>
    public static string Probability(float p) =>
        $"{p.ToString("F4", CultureInfo.InvariantCulture)} [green]{new string('█', (int)MathF.Round(Math.Clamp(p, 0f, 1f) * 20))}[/]";

    public static string Number(float value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
