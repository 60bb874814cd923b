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
    public void TheCheckerAgreesWithLibreOfficeAndItsSuggestedFormulaIsRight()
    {
        var config = NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 };
        var rng = new Random(11);
        var good = new StudentWorkbook
        {
            Rows = StudentTables.Correct(config, 40),
            LearningRate = 0.5,
            SheetName = "Backprop",
            HeaderRow = 5,
            FirstCol = 2,
            Order = StudentTables.Correct(config, 1)[0].Keys.OrderBy(_ => rng.Next()).ToList(),
            Formulas = true,
            OmitCachedValues = true,
            Eta = new EtaLabel("learning rate", Row: 2, Col: 2),
        };
        string C(string name, int i) => good.Cell(i, name);
        // The mistake: o2 = w7·a_h1 + w8·a_h1.
        var wrong = good with { ColumnFormulas = new Dictionary<string, Func<int, string>> { ["o2"] = i => $"={C("w7", i)}*{C("a_h1", i)}+{C("w8", i)}*{C("a_h1", i)}+{C("b2", i)}" } };

        // The checker's suggestion depends only on the layout, so a values-only copy of the mistake gives it.
        var planted = good with
        {
            Formulas = false,
            Rows = StudentTables.Simulate(config, 40, (_, name, r, _) => name == "o2" ? r["w7"] * r["a_h1"] + r["w8"] * r["a_h1"] + r["b2"] : null),
        };
        string suggestion = Assert.Single(SheetChecker.Check(planted.Build()).Findings).Formula!;
        int firstRow = good.RowOf(0);
        var fixedBook = good with
        {
            ColumnFormulas = new Dictionary<string, Func<int, string>>
            {
                ["o2"] = i => Regex.Replace(suggestion, $@"(?<=[A-Z]){firstRow}(?!\d)", (firstRow + i).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            },
        };

        var names = new[] { "good", "wrong", "fixed" };
        var books = new[] { good, wrong, fixedBook };
        for (int k = 0; k < 3; k++) File.WriteAllBytes(Path.Combine(_dir, names[k] + ".xlsx"), books[k].Build());
        Recalculate(names.Select(n => Path.Combine(_dir, n + ".xlsx")).ToArray());
        CheckReport Checked(string name) => SheetChecker.Check(Path.Combine(_dir, "out", name + ".xlsx"));

        var g = Checked("good");
        Assert.True(g.Ok, g.ToText());
        Assert.Equal(40, g.Rows);

        var w = Checked("wrong");
        var f = Assert.Single(w.Findings);
        Assert.Equal(("o2", FindingKind.Column, C("o2", 0), 40), (f.Column, f.Kind, f.Cell, f.Count));
        Assert.Equal(suggestion, f.Formula);

        var x = Checked("fixed");
        Assert.True(x.Ok, x.ToText());
    }

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
