using Era.Backprop;
using Era.Excel.Checking;

namespace Era.Tests.Excel.Checking;

/// <summary>
/// Random student layouts (start cell, column order, spellings, values or formulas, η labelled or not, biases or
/// not) with one randomly typed-over cell: the checker must name exactly that cell, and nothing else.
/// </summary>
public class CheckerRandomLayoutTests
{
    private static readonly Dictionary<string, string[]> Spellings = new()
    {
        ["a_h1"] = ["a_h1", "out_h1", "ah1", "a_{h1}", "σ(h1)"],
        ["a_h2"] = ["a_h2", "out_h2", "ah2", "a_{h2}"],
        ["a_o1"] = ["a_o1", "out_o1", "ao1", "A_O1"],
        ["a_o2"] = ["a_o2", "out_o2", "ao2"],
        ["h1"] = ["h1", "net_h1", "net h1"],
        ["o2"] = ["o2", "net_o2", "NET O2"],
        ["E_tot"] = ["E_tot", "E_total", "Etotal", "E total", "E"],
        ["E1"] = ["E1", "E_o1", "e1"],
        ["t1"] = ["t1", "T1", "target1"],
        ["i2"] = ["i2", "I2", "input 2"],
    };

    [Fact]
    public void OneTypedOverCellIsFoundInAnyLayout()
    {
        var rng = new Random(2024);
        double[] rates = [0.1, 0.2, 0.5, 0.8, 1.0, 2.0];
        for (int trial = 0; trial < 60; trial++)
        {
            var config = (rng.Next(2) == 0 ? NetworkConfig.Classic : NetworkConfig.Era) with { LearningRate = rates[rng.Next(rates.Length)] };
            if (rng.Next(2) == 0) config = config with { B1 = 0.35, B2 = 0.6 };
            int rows = rng.Next(3, 40);
            var names = TableColumns.For(config).Select(c => c.Name).ToList();
            int at = rng.Next(1, rows);
            string column = names[rng.Next(names.Count)];
            var table = StudentTables.Simulate(config, rows, (i, name, r, _) => i == at && name == column ? r[name] * 1.01 + 0.001 : null);
            bool labelled = rng.Next(2) == 0;
            var book = new StudentWorkbook
            {
                Rows = table,
                LearningRate = config.LearningRate,
                HeaderRow = rng.Next(1, 10),
                FirstCol = rng.Next(1, 10),
                Order = names.OrderBy(_ => rng.Next()).ToList(),
                Header = n => Spellings.TryGetValue(n, out var s) ? s[n.Length % s.Length] : n,
                Formulas = rng.Next(2) == 0,
                SharedStrings = rng.Next(2) == 0,
                Eta = labelled ? new EtaLabel(new[] { "η", "eta", "LR", "alpha" }[rng.Next(4)], rng.Next(2) == 0, Row: 1, Col: 60) : null,
            };
            string context = $"trial {trial}: {column} at index {at} of {rows}, layout at {XlsxBuilder.A1(book.HeaderRow, book.FirstCol)}, η {config.LearningRate}, labelled {labelled}";

            var report = SheetChecker.Check(book.Build());
            var f = Assert.Single(report.Findings);
            Assert.True((column, book.Cell(at, column), FindingKind.Cell) == (f.Column, f.Cell, f.Kind), context + "\n" + report.ToText());
            Assert.Equal(config.LearningRate, report.LearningRate!.Value, 12);
        }
    }
}
