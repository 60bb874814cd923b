using Era.Backprop;
using Era.Engine;
using Era.Engine.Models;
using Era.Excel.Checking;
using Era.Excel.Writing;
using Era.Figures;
using Era.Notebooks;
using Era.Symbolic;
using Microsoft.DotNet.Interactive.Formatting;
using Charts = Era.Figures.Charts;

namespace Era.Tests.Notebooks;

/// <summary>What the kernel extension registers, checked in-process (the kernel runs are in NotebookRunnerTests).</summary>
public sealed class FormatterTests
{
    static FormatterTests() => CourseFormatters.Register();

    [Fact]
    public void AFigureIsInteractiveHtmlOverAStaticPictureOfItselfAndAPng()
    {
        var figure = Charts.LearningRates([IterationTable.Run(NetworkConfig.Classic, 20)]);
        Assert.Equal(["text/html", "image/png", "text/plain"], Formatter.GetPreferredMimeTypesFor(typeof(Figure)).Take(3));
        string html = figure.ToDisplayString("text/html");
        string png64 = figure.ToDisplayString("image/png");
        byte[] png = Convert.FromBase64String(png64);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Contains("Plotly.newPlot", html);
        // The fallback inside the HTML is the very same picture.
        Assert.Contains($"<img src=\"data:image/png;base64,{png64}\"", html);
        Assert.True(html.IndexOf("<img", StringComparison.Ordinal) < html.IndexOf("<script", StringComparison.Ordinal));
    }

    [Fact]
    public void ADerivationIsDisplayMathWithAPlainTextTwin()
    {
        var d = NetworkGraph.Derive(NetworkConfig.Classic, "w5");
        string md = d.ToDisplayString("text/markdown");
        Assert.StartsWith("$$\n", md);
        Assert.EndsWith("\n$$", md);
        Assert.Contains(@"\frac{\partial E_{1}}{\partial w_{5}}", md);
        Assert.DoesNotContain("\n\n", md); // a blank line would end the math block in markdown
        Assert.Equal(d.ToText(), d.ToDisplayString("text/plain"));
    }

    [Fact]
    public void TheTableAsADataFrameHoldsTheSpreadsheetsNumbers()
    {
        var config = NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 };
        var table = IterationTable.Run(config, 30);
        var frame = Tables.ToDataFrame(table);
        var columns = TableColumns.For(config);
        Assert.Equal(["k", .. columns.Select(c => c.Name)], frame.Columns.Select(c => c.Name));
        Assert.Equal(30, frame.Rows.Count);
        for (int r = 0; r < 30; r++)
        {
            Assert.Equal(table.Rows[r].Iteration, (int)frame["k"][r]!);
            foreach (var c in columns)
                Assert.Equal(c.Value(config, table.Rows[r]), (double)frame[c.Name][r]!);
        }
    }

    [Fact]
    public void ASummaryShowsEveryLayerWithItsReceptiveField()
    {
        var s = Summary.summary(ModelZoo.Create("reference"), 1, 28, 28);
        string html = s.ToDisplayString("text/html");
        Assert.Equal(s.Rows.Count, html.Split("<tr><td>").Length - 1);
        Assert.Contains("12,098", html);
        Assert.Contains($"receptive field of the last layer {s.Rows[^1].ReceptiveField}×{s.Rows[^1].ReceptiveField}", html);
    }

    [Fact]
    public void AStudentsSlipWrittenIntoACopyIsTheOneCellTheCheckerNames()
    {
        string dir = Directory.CreateTempSubdirectory("era-wb-").FullName;
        try
        {
            var config = NetworkConfig.Classic;
            string good = Path.Combine(dir, "good.xlsx"), bad = Path.Combine(dir, "bad.xlsx");
            BackpropWorkbook.WriteFile(good, config, 40);
            byte[] original = File.ReadAllBytes(good);
            var row = IterationTable.Run(config, 40).Rows[9].Forward; // k = 10, sheet row 14
            Workbooks.WriteCopyWith(good, bad, "Table", "W14", "=U14-V14", row.E1 - row.E2);
            Assert.Equal(original, File.ReadAllBytes(good));
            Assert.Equal("=U14+V14", Workbooks.Formula(good, "Table", "W14"));
            Assert.Equal("=U14-V14", Workbooks.Formula(bad, "Table", "W14"));
            Assert.True(SheetChecker.Check(good).Ok);
            var report = SheetChecker.Check(bad);
            Assert.Equal("W14", report.FirstWrongCell);
            Assert.Equal(1, report.WrongCells);
            Assert.Contains("W14", report.ToDisplayString("text/plain"));
            var formulas = Workbooks.Formulas(good, "Table", 5);
            Assert.Contains("=1/(1+EXP(-I5))", formulas["formula"].Cast<string>());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ALiveDisplayOutsideAKernelKeepsTheLastValueAndDrawsNothing()
    {
        var live = LiveDisplay.Start("<b>0</b>");
        live.Update("<b>1</b>");
        live.Update("<b>2</b>", force: true);
        Assert.Equal("<b>2</b>", live.Current);
    }
}
