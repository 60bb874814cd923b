using System.Diagnostics;
using System.Text.RegularExpressions;
using Era.Backprop;
using Era.Excel.Checking;

namespace Era.Tests.Excel.Checking;

/// <summary>
/// A real spreadsheet program as the independent judge: LibreOffice computes the student's formulas (saved without
/// values) and saves the workbook; the checker must agree with its numbers, find a planted formula mistake, and
/// accept the sheet once the formula it suggests is filled down.
/// </summary>
public sealed class CheckerLibreOfficeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-check-lo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheCheckerAgreesWithLibreOfficeAndEverySuggestedFormulaIsRight()
    {
        var config = NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 };
        const int Rows = 40;
        var correct = StudentTables.Correct(config, Rows);
        var rng = new Random(11);
        var good = new StudentWorkbook
        {
            Rows = correct,
            LearningRate = 0.5,
            SheetName = "Backprop",
            HeaderRow = 5,
            FirstCol = 2,
            Order = correct[0].Keys.OrderBy(_ => rng.Next()).ToList(),
            Formulas = true,
            OmitCachedValues = true,
            Eta = new EtaLabel("learning rate", Row: 2, Col: 2),
        };
        string C(string name, int i) => good.Cell(i, name);
        // The mistake: o2 = w7·a_h1 + w8·a_h1.
        var wrong = good with
        {
            ColumnFormulas = new Dictionary<string, Func<int, string?>> { ["o2"] = i => $"={C("w7", i)}*{C("a_h1", i)}+{C("w8", i)}*{C("a_h1", i)}+{C("b2", i)}" },
        };

        // The checker's suggestions depend only on the layout: a values-only copy where every computed cell is off
        // gives one "column" finding, with its formula, for every column. Filled down, they must rebuild the table.
        var garbled = good with
        {
            Formulas = false,
            Rows = correct.Select((r, i) => r.ToDictionary(kv => kv.Key, kv => kv.Key is "t1" or "t2" or "i1" or "i2" or "b1" or "b2" || (i == 0 && kv.Key[0] == 'w') ? kv.Value : kv.Value * 1.5 + 0.1)).ToList(),
        };
        var suggestions = SheetChecker.Check(garbled.Build()).Findings;
        Assert.Equal(33 - 6, suggestions.Count); // every computed column and every weight; inputs, targets, biases are right
        Assert.All(suggestions, f => Assert.Equal(FindingKind.Column, f.Kind));
        var filled = new Dictionary<string, Func<int, string?>>();
        foreach (var f in suggestions)
        {
            int first = good.RowOf(0) + (f.Column[0] == 'w' ? 1 : 0);
            filled[f.Column] = i => good.RowOf(i) < first ? null : Shift(f.Formula!, good.RowOf(i) - first);
        }
        var rebuilt = good with { ColumnFormulas = filled };

        var names = new[] { "good", "wrong", "rebuilt" };
        var books = new[] { good, wrong, rebuilt };
        for (int k = 0; k < 3; k++) File.WriteAllBytes(Path.Combine(_dir, names[k] + ".xlsx"), books[k].Build());
        Recalculate(names.Select(n => Path.Combine(_dir, n + ".xlsx")).ToArray());
        string Out(string name) => Path.Combine(_dir, "out", name + ".xlsx");

        var g = SheetChecker.Check(Out("good"));
        Assert.True(g.Ok, g.ToText());
        Assert.Equal(Rows, g.Rows);

        var w = SheetChecker.Check(Out("wrong"));
        var o2 = Assert.Single(w.Findings);
        Assert.Equal(("o2", FindingKind.Column, C("o2", 0), Rows), (o2.Column, o2.Kind, o2.Cell, o2.Count));
        Assert.Equal(suggestions.Single(f => f.Column == "o2").Formula, o2.Formula);

        var r = SheetChecker.Check(Out("rebuilt"));
        Assert.True(r.Ok, r.ToText());
        // LibreOffice, computing the suggested formulas, reproduces the numeric core's table.
        var sheet = SafeWorkbook.Read(Out("rebuilt")).Single(s => s.Name == "Backprop");
        for (int i = 0; i < Rows; i++)
            foreach (var (name, expected) in correct[i])
            {
                double found = sheet[good.RowOf(i), good.ColumnOf(name)].Number ?? double.NaN;
                Assert.True(Math.Abs(found - expected) <= 1e-12 * Math.Max(1e-3, Math.Abs(expected)), $"{name} row {i}: LibreOffice {found}, core {expected}");
            }
    }

    /// <summary>Moves every relative row reference (J11, not $B$2 or J$11) down by <paramref name="by"/> rows.</summary>
    private static string Shift(string formula, int by) =>
        Regex.Replace(formula, @"(?<=[A-Z])(\d+)(?![\d(])", m => (int.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture) + by).ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Has LibreOffice (headless, private profile) load, compute and save each file as .xlsx into out/.</summary>
    private void Recalculate(string[] files)
    {
        string? soffice = new[] { "/usr/bin/soffice", "/usr/local/bin/soffice", "/usr/bin/libreoffice" }.FirstOrDefault(File.Exists);
        Assert.True(soffice is not null,
            "LibreOffice is needed to recalculate the test workbooks: apt-get install -y libreoffice-calc-nogui");
        var psi = new ProcessStartInfo(soffice!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "--headless", "--norestore", $"-env:UserInstallation=file://{_dir}/profile", "--convert-to", "xlsx", "--outdir", Path.Combine(_dir, "out") })
            psi.ArgumentList.Add(a);
        foreach (var f in files) psi.ArgumentList.Add(f);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "LibreOffice did not finish in 3 minutes");
        Assert.True(p.ExitCode == 0, $"LibreOffice failed ({p.ExitCode}): {stdout.Result} {stderr.Result}");
        foreach (var f in files)
            Assert.True(File.Exists(Path.Combine(_dir, "out", Path.GetFileName(f))), $"LibreOffice wrote no {Path.GetFileName(f)}: {stdout.Result} {stderr.Result}");
    }
}
