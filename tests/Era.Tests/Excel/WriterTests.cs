using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Validation;
using Era.Backprop;
using Era.Excel.Writing;
using C = DocumentFormat.OpenXml.Drawing.Charts;
using S = DocumentFormat.OpenXml.Spreadsheet;
using TableColumns = Era.Backprop.TableColumns;

namespace Era.Tests.Excel;

/// <summary>The workbook's structure, without a spreadsheet: schema validity, formulas, charts, layout, speed.</summary>
/// <remarks>In one collection with the LibreOffice tests, which start LibreOffice on the same files.</remarks>
[Collection(ExcelWriterCollection.Name)]
public class WriterTests
{
    private static MemoryStream Write(NetworkConfig config, int iterations = IterationTable.DefaultIterations, IReadOnlyList<double>? rates = null)
    {
        var stream = new MemoryStream();
        BackpropWorkbook.Write(stream, config, iterations, rates);
        stream.Position = 0;
        return stream;
    }

    public static TheoryData<string, int, double[]> Workbooks => new()
    {
        { "classic", 181, [0.1, 0.2, 0.5, 0.8, 1.0, 2.0] },
        { "era", 1, [0.5] },
        { "biases", 12, [0.25, 3] },
    };

    [Theory]
    [MemberData(nameof(Workbooks))]
    public void TheOpenXmlValidatorFindsNoErrors(string preset, int iterations, double[] rates)
    {
        var config = preset == "biases" ? NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 } : NetworkConfig.Preset(preset);
        using var stream = Write(config, iterations, rates);
        using var doc = SpreadsheetDocument.Open(stream, false);
        var errors = new OpenXmlValidator(FileFormatVersions.Office2013).Validate(doc).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(10).Select(e => $"{e.Part?.Uri} {e.Path?.XPath}: {e.Description}")));
    }

    [Fact]
    public void TheTableHoldsTheCourseFormulas()
    {
        var config = NetworkConfig.Classic;
        var cells = Read(Write(config, 3));
        var table = cells[BackpropWorkbook.TableSheet];
        // The two formulas the issue quotes from the course sheet: a_h1 = σ(h1) and the w1 update with η in $B$2.
        Assert.Equal("1/(1+EXP(-I5))", table["J5"].Formula);
        Assert.Equal("E5-$B$2*X5", table["E6"].Formula);
        // Inputs and row 1's weights come from the Network sheet; η from the table's own B2, which follows Network.
        string Front(string name) => "Network!$B$" + BackpropWorkbook.InputCell(config, name)[1..];
        Assert.Equal(Front("i1"), table["C5"].Formula);
        Assert.Equal(Front("i1"), table["C7"].Formula);
        Assert.Equal(Front("w1"), table["E5"].Formula);
        Assert.Equal(Front("eta"), table["B2"].Formula);
        Assert.Equal("U7+V7", table["W7"].Formula);

        // Every table cell below the header is a formula, and the header is the canonical column list.
        var columns = TableColumns.For(config);
        for (int i = 0; i < columns.Count; i++)
        {
            Assert.Equal(columns[i].Name, table[CellRef.Of(i, TableFormulas.HeaderRow)].Text);
            for (int row = TableFormulas.FirstRow; row < TableFormulas.FirstRow + 3; row++)
                Assert.NotNull(table[CellRef.Of(i, row)].Formula);
        }
        Assert.Equal(config.LearningRate, cells[BackpropWorkbook.FrontSheet][BackpropWorkbook.InputCell(config, "eta")].Number);
        Assert.Equal(config.Weights.W8, cells[BackpropWorkbook.FrontSheet][BackpropWorkbook.InputCell(config, "w8")].Number);
    }

    [Fact]
    public void TheCachedValuesAreTheEngineValues()
    {
        var config = NetworkConfig.Era;
        var cells = Read(Write(config, 20, [0.5, 2]));
        var expected = IterationTable.Run(config, 20);
        var columns = TableColumns.For(config);
        foreach (string sheet in new[] { BackpropWorkbook.TableSheet, BackpropWorkbook.RateSheet(0.5) })
            for (int k = 0; k < 20; k++)
                for (int i = 0; i < columns.Count; i++)
                    Assert.Equal(columns[i].Value(config, expected.Rows[k]), cells[sheet][CellRef.Of(i, TableFormulas.FirstRow + k)].Number);
        var fast = IterationTable.Run(config with { LearningRate = 2 }, 20);
        Assert.Equal(fast.Losses()[19], cells[BackpropWorkbook.CompareSheet]["C24"].Number);
        Assert.Equal("'η=2'!W24", cells[BackpropWorkbook.CompareSheet]["C24"].Formula);
    }

    [Fact]
    public void TheFrontSheetStatesTheNetworkAndTheEightGradients()
    {
        var config = NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 };
        var front = Read(Write(config, 2, [0.5]))[BackpropWorkbook.FrontSheet];
        var texts = front.Values.Select(c => c.Text).OfType<string>().ToList();
        for (int k = 1; k <= 8; k++) Assert.Contains(texts, t => t.StartsWith($"∂E/∂w{k} = ", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.Contains("a_h1 = σ(h1)", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.Contains("h1 = w1·i1 + w2·i2 + b1", StringComparison.Ordinal));
        foreach (var (name, value) in new[] { ("i1", config.I1), ("t2", config.T2), ("w5", config.Weights.W5), ("b1", 0.35), ("b2", 0.6) })
            Assert.Equal(value, front[BackpropWorkbook.InputCell(config, name)].Number);
        Assert.Throws<ArgumentException>(() => BackpropWorkbook.InputCell(NetworkConfig.Classic, "b1"));
    }

    [Fact]
    public void ChartsAndFrozenHeadersAreThere()
    {
        using var stream = Write(NetworkConfig.Classic);
        using var doc = SpreadsheetDocument.Open(stream, false);
        var book = doc.WorkbookPart!;
        WorksheetPart Sheet(string name) =>
            (WorksheetPart)book.GetPartById(book.Workbook.Descendants<S.Sheet>().Single(s => s.Name == name).Id!.Value!);

        var table = Sheet(BackpropWorkbook.TableSheet);
        var pane = table.Worksheet.Descendants<S.Pane>().Single();
        Assert.Equal(S.PaneStateValues.Frozen, pane.State!.Value);
        Assert.Equal("A5", pane.TopLeftCell!.Value);
        Assert.NotEmpty(table.Worksheet.Descendants<S.Column>());

        var tableChart = table.DrawingsPart!.ChartParts.Single().ChartSpace;
        var series = tableChart.Descendants<C.ScatterChartSeries>().Single();
        Assert.Equal("Table!$W$5:$W$185", series.GetFirstChild<C.YValues>()!.Descendants<C.Formula>().Single().Text);
        Assert.Equal(181, series.GetFirstChild<C.YValues>()!.Descendants<C.NumericPoint>().Count());
        Assert.Equal(181, series.GetFirstChild<C.XValues>()!.Descendants<C.NumericPoint>().Count()); // 1, 2, … 181 as literals

        var compare = Sheet(BackpropWorkbook.CompareSheet).DrawingsPart!.ChartParts.Single().ChartSpace;
        var lines = compare.Descendants<C.ScatterChartSeries>().ToList();
        Assert.Equal(LearningRateSweep.DefaultRates.Count, lines.Count);
        Assert.Equal("Compare!$G$5:$G$185", lines[^1].GetFirstChild<C.YValues>()!.Descendants<C.Formula>().Single().Text);
        Assert.Equal("E_tot, η=2", lines[^1].GetFirstChild<C.SeriesText>()!.InnerText.Split("$G$4")[^1]);
    }

    [Fact]
    public void BadArgumentsAreRejectedBeforeAnythingIsWritten()
    {
        string path = Path.Combine(Path.GetTempPath(), "era-writer-" + Guid.NewGuid().ToString("N"), "x.xlsx");
        Assert.Throws<ArgumentOutOfRangeException>(() => BackpropWorkbook.WriteFile(path, NetworkConfig.Classic, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BackpropWorkbook.WriteFile(path, NetworkConfig.Classic, BackpropWorkbook.MaxIterations + 1));
        Assert.Throws<ArgumentException>(() => BackpropWorkbook.WriteFile(path, NetworkConfig.Classic, 5, [0.5, 0.5]));
        Assert.Throws<ArgumentException>(() => BackpropWorkbook.WriteFile(path, NetworkConfig.Classic, 5, [0.5, -1]));
        Assert.Throws<ArgumentException>(() => BackpropWorkbook.WriteFile(path, NetworkConfig.Classic, 5, []));
        Assert.Throws<ArgumentException>(() => BackpropWorkbook.WriteFile(path, NetworkConfig.Classic with { I1 = double.NaN }, 5));
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }

    private static Dictionary<string, Dictionary<string, WrittenCell>> Read(MemoryStream stream)
    {
        string path = Path.Combine(Path.GetTempPath(), $"era-writer-{Guid.NewGuid():N}.xlsx");
        File.WriteAllBytes(path, stream.ToArray());
        try { return WriterCells.Read(path); }
        finally { File.Delete(path); }
    }
}

[CollectionDefinition(Name)]
public sealed class ExcelWriterCollection
{
    public const string Name = "Excel writer";
}
