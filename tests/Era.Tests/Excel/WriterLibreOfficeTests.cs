using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Era.Backprop;
using Era.Excel.Writing;
using TableColumns = Era.Backprop.TableColumns;

namespace Era.Tests.Excel;

/// <summary>
/// Workbooks written once and recalculated by LibreOffice in one run (starting it costs seconds):
/// the default workbook, a copy with planted wrong cached values, a copy whose inputs a student changed,
/// and a workbook with biases.
/// </summary>
public sealed class RecalculatedWorkbooks : IDisposable
{
    public static readonly NetworkConfig Config = NetworkConfig.Classic;
    public static readonly NetworkConfig BiasConfig = NetworkConfig.Era with { B1 = 0.35, B2 = 0.6 };
    public static readonly double[] BiasRates = [0.5, 1.5];

    /// <summary>What the student typed in the changed copy: η on Network, w1 on Network, the second rate on Compare.</summary>
    public const double ChangedEta = 0.8, ChangedW1 = 0.3, ChangedSecondRate = 0.3;

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "era-writer-" + Guid.NewGuid().ToString("N"));
    public string Default { get; }
    public string Planted { get; }
    public string Changed { get; }
    public string Biases { get; }
    public IReadOnlyList<string> Recalculated { get; }

    public RecalculatedWorkbooks()
    {
        Directory.CreateDirectory(Dir);
        Default = Path.Combine(Dir, "default.xlsx");
        BackpropWorkbook.WriteFile(Default, Config);

        Planted = Path.Combine(Dir, "planted.xlsx");
        File.Copy(Default, Planted);
        Edit(Planted, book =>
        {
            Cell(book, BackpropWorkbook.TableSheet, "W10").CellValue = new CellValue("999");
            Cell(book, BackpropWorkbook.CompareSheet, "B10").CellValue = new CellValue("999");
            // Without the flag, only the helper's "always recalculate" setting can make LibreOffice fix them.
            book.Workbook.GetFirstChild<CalculationProperties>()!.FullCalculationOnLoad = null;
        });

        Changed = Path.Combine(Dir, "changed.xlsx");
        File.Copy(Default, Changed);
        Edit(Changed, book =>
        {
            Cell(book, BackpropWorkbook.FrontSheet, BackpropWorkbook.InputCell(Config, "eta")).CellValue = new CellValue("0.8");
            Cell(book, BackpropWorkbook.FrontSheet, BackpropWorkbook.InputCell(Config, "w1")).CellValue = new CellValue("0.3");
            Cell(book, BackpropWorkbook.CompareSheet, "C2").CellValue = new CellValue("0.3");
        });

        Biases = Path.Combine(Dir, "biases.xlsx");
        BackpropWorkbook.WriteFile(Biases, BiasConfig, iterations: 30, learningRates: BiasRates);

        Recalculated = LibreOffice.Recalculate(Path.Combine(Dir, "recalculated"), Default, Planted, Changed, Biases);
    }

    private static void Edit(string path, Action<WorkbookPart> edit)
    {
        using var doc = SpreadsheetDocument.Open(path, true);
        edit(doc.WorkbookPart!);
        foreach (var part in doc.WorkbookPart!.WorksheetParts) part.Worksheet.Save();
        doc.WorkbookPart.Workbook.Save();
    }

    private static Cell Cell(WorkbookPart book, string sheet, string address)
    {
        string id = book.Workbook.Descendants<Sheet>().Single(s => s.Name == sheet).Id!.Value!;
        return ((WorksheetPart)book.GetPartById(id)).Worksheet.Descendants<Cell>().Single(c => c.CellReference == address);
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

[Collection(ExcelWriterCollection.Name)]
public class WriterLibreOfficeTests(RecalculatedWorkbooks books) : IClassFixture<RecalculatedWorkbooks>
{
    [Fact]
    public void WithoutLibreOfficeTheTestsFailWithAnInstallHint()
    {
        Assert.Null(LibreOffice.Find(Path.Combine(books.Dir, "no-such-folder")));
        Assert.Contains("apt-get install libreoffice-calc-nogui", LibreOffice.InstallHint);
        Assert.NotNull(LibreOffice.Find(Environment.GetEnvironmentVariable("PATH") ?? ""));
    }

    [Fact]
    public void EveryFormulaCellOfTheDefaultWorkbookRecalculatesToItsStoredValue()
    {
        int checkedCells = AssertRecalculatesToStored(books.Default, books.Recalculated[0]);
        // Table and six rate sheets: 31 formula columns × 181 rows + η; Compare: 6 × 181 + 6 headers.
        int columns = TableColumns.For(RecalculatedWorkbooks.Config).Count, rates = LearningRateSweep.DefaultRates.Count;
        Assert.Equal((1 + rates) * (columns * 181 + 1) + rates * 181 + rates, checkedCells);
    }

    [Fact]
    public void EveryFormulaCellOfAWorkbookWithBiasesRecalculatesToItsStoredValue()
    {
        int checkedCells = AssertRecalculatesToStored(books.Biases, books.Recalculated[3]);
        Assert.True(checkedCells > 3 * 33 * 30, $"only {checkedCells} formula cells");
    }

    [Fact]
    public void TheRecalculatedTableIsTheEngineTable()
    {
        var cells = WriterCells.Read(books.Recalculated[0]);
        AssertTable(cells[BackpropWorkbook.TableSheet], IterationTable.Run(RecalculatedWorkbooks.Config));
        for (int j = 0; j < LearningRateSweep.DefaultRates.Count; j++)
        {
            double lr = LearningRateSweep.DefaultRates[j];
            AssertTable(cells[BackpropWorkbook.RateSheet(lr)], IterationTable.Run(RecalculatedWorkbooks.Config with { LearningRate = lr }));
        }
        var biased = WriterCells.Read(books.Recalculated[3]);
        AssertTable(biased[BackpropWorkbook.TableSheet], IterationTable.Run(RecalculatedWorkbooks.BiasConfig, 30));
        AssertTable(biased[BackpropWorkbook.RateSheet(1.5)], IterationTable.Run(RecalculatedWorkbooks.BiasConfig with { LearningRate = 1.5 }, 30));
    }

    [Fact]
    public void LibreOfficeReallyRecalculatesAPlantedWrongValue()
    {
        var planted = WriterCells.Read(books.Planted);
        Assert.Equal(999, planted[BackpropWorkbook.TableSheet]["W10"].Number);
        var fixedUp = WriterCells.Read(books.Recalculated[1]);
        double expected = IterationTable.Run(RecalculatedWorkbooks.Config).Rows[10 - TableFormulas.FirstRow].Forward.ETotal;
        Assert.True(WriterCells.Close(expected, fixedUp[BackpropWorkbook.TableSheet]["W10"].Number!.Value));
        double expected01 = IterationTable.Run(RecalculatedWorkbooks.Config with { LearningRate = 0.1 }).Rows[10 - TableFormulas.FirstRow].Forward.ETotal;
        Assert.True(WriterCells.Close(expected01, fixedUp[BackpropWorkbook.CompareSheet]["B10"].Number!.Value));
    }

    [Fact]
    public void ChangingInputCellsChangesTablesAndComparisonAsTheEnginePredicts()
    {
        var cells = WriterCells.Read(books.Recalculated[2]);
        var start = RecalculatedWorkbooks.Config.Weights with { W1 = RecalculatedWorkbooks.ChangedW1 };
        var student = RecalculatedWorkbooks.Config with { LearningRate = RecalculatedWorkbooks.ChangedEta, Weights = start };
        Assert.Equal(RecalculatedWorkbooks.ChangedEta, cells[BackpropWorkbook.TableSheet]["B2"].Number);
        AssertTable(cells[BackpropWorkbook.TableSheet], IterationTable.Run(student));

        // The second rate's sheet keeps its name but follows the new rate in Compare!C2, and so does its column.
        var second = IterationTable.Run(student with { LearningRate = RecalculatedWorkbooks.ChangedSecondRate });
        AssertTable(cells[BackpropWorkbook.RateSheet(LearningRateSweep.DefaultRates[1])], second);
        var compare = cells[BackpropWorkbook.CompareSheet];
        Assert.Equal("E_tot, η=0.3", compare["C4"].Text);
        for (int k = 0; k < second.Rows.Count; k++)
            AssertClose(second.Rows[k].Forward.ETotal, compare[$"C{TableFormulas.FirstRow + k}"].Number, $"Compare!C{TableFormulas.FirstRow + k}");
        // The first rate is unchanged but starts from the new w1 like every other sheet.
        var first = IterationTable.Run(student with { LearningRate = LearningRateSweep.DefaultRates[0] });
        AssertClose(first.Rows[^1].Forward.ETotal, compare[$"B{TableFormulas.FirstRow + first.Rows.Count - 1}"].Number, "Compare!B185");
        Assert.NotEqual(IterationTable.Run(RecalculatedWorkbooks.Config).Rows[^1].Forward.ETotal, IterationTable.Run(student).Rows[^1].Forward.ETotal);
    }

    /// <summary>Each formula cell of <paramref name="written"/> has the same formula and value after LibreOffice recalculated it.</summary>
    private static int AssertRecalculatesToStored(string written, string recalculated)
    {
        var ours = WriterCells.Read(written);
        var theirs = WriterCells.Read(recalculated);
        int count = 0;
        foreach (var (sheet, cells) in ours)
        {
            foreach (var (address, cell) in cells)
            {
                if (cell.Formula is null) continue;
                var lo = theirs[sheet][address];
                Assert.True(lo.Formula == cell.Formula, $"{sheet}!{address}: formula {cell.Formula} came back as {lo.Formula}");
                if (cell.Text is not null) Assert.True(cell.Text == lo.Text, $"{sheet}!{address}: stored '{cell.Text}', LibreOffice '{lo.Text}'");
                else AssertClose(cell.Number!.Value, lo.Number, $"{sheet}!{address} = {cell.Formula}");
                count++;
            }
        }
        return count;
    }

    private static void AssertTable(Dictionary<string, WrittenCell> sheet, IterationTable expected)
    {
        var columns = TableColumns.For(expected.Config);
        for (int i = 0; i < columns.Count; i++)
        {
            Assert.Equal(columns[i].Name, sheet[CellRef.Of(i, TableFormulas.HeaderRow)].Text);
            for (int k = 0; k < expected.Rows.Count; k++)
            {
                string address = CellRef.Of(i, TableFormulas.FirstRow + k);
                AssertClose(columns[i].Value(expected.Config, expected.Rows[k]), sheet[address].Number, $"{address} ({columns[i].Name})");
            }
        }
        Assert.False(sheet.ContainsKey(CellRef.Of(0, TableFormulas.FirstRow + expected.Rows.Count)), "the table has extra rows");
    }

    private static void AssertClose(double expected, double? actual, string where)
    {
        Assert.True(actual.HasValue, $"{where}: no number");
        Assert.True(WriterCells.Close(expected, actual!.Value), $"{where}: expected {expected:R}, got {actual:R}");
    }
}
