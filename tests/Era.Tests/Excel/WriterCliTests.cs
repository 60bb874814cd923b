using DocumentFormat.OpenXml.Packaging;
using Era.Backprop;
using Era.Cli;
using Era.Excel.Writing;
using EraCli = Era.Cli.Cli;

namespace Era.Tests.Excel;

/// <summary>`era excel`, run in-process: writes a workbook atomically, rejects bad input with one clear line and exit 2.</summary>
public sealed class WriterCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "era-excel-cli-" + Guid.NewGuid().ToString("N"));

    public WriterCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Era.Tests.Cli.CliRunner.Run(["excel", .. args]);

    [Fact]
    public void WritesTheWorkbookAndNothingElse()
    {
        string path = Path.Combine(_dir, "sub", "course.xlsx");
        var (code, stdout, stderr) = Run("--out", path, "--preset", "era", "--lr", "0.8", "--iterations", "7", "--lrs", "0.5, 1.5");
        Assert.True(code == 0, stderr);
        Assert.Contains("course.xlsx", stdout);
        Assert.Equal(["course.xlsx"], Directory.GetFiles(Path.Combine(_dir, "sub")).Select(Path.GetFileName));

        using var doc = SpreadsheetDocument.Open(path, false);
        var names = doc.WorkbookPart!.Workbook.Sheets!.Elements<DocumentFormat.OpenXml.Spreadsheet.Sheet>().Select(s => s.Name!.Value).ToList();
        Assert.Equal([BackpropWorkbook.FrontSheet, BackpropWorkbook.TableSheet, BackpropWorkbook.CompareSheet, "η=0.5", "η=1.5"], names);
        doc.Dispose();

        var cells = WriterCells.Read(path);
        var expected = IterationTable.Run(NetworkConfig.Era with { LearningRate = 0.8 }, 7);
        Assert.Equal(0.8, cells[BackpropWorkbook.TableSheet]["B2"].Number);
        Assert.Equal(expected.Rows[6].Forward.ETotal, cells[BackpropWorkbook.TableSheet]["W11"].Number);
        Assert.False(cells[BackpropWorkbook.TableSheet].ContainsKey("W12"));
    }

    [Fact]
    public void BiasesAndWeightsFromTheCommandLineReachTheFrontSheet()
    {
        string path = Path.Combine(_dir, "b.xlsx");
        var (code, _, stderr) = Run("--out", path, "--biases", "0.35,0.6", "--weights", "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8", "--iterations", "2");
        Assert.True(code == 0, stderr);
        var config = NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 };
        var front = WriterCells.Read(path)[BackpropWorkbook.FrontSheet];
        Assert.Equal(0.35, front[BackpropWorkbook.InputCell(config, "b1")].Number);
        Assert.Equal(0.8, front[BackpropWorkbook.InputCell(config, "w8")].Number);
    }

    [Theory]
    [InlineData("--out: required", "--iterations", "5")]
    [InlineData("must end in .xlsx", "--out", "x.xls")]
    [InlineData("--lrs: ", "--out", "x.xlsx", "--lrs", "0.5,fast")]
    [InlineData("--lrs: every learning rate must be > 0", "--out", "x.xlsx", "--lrs", "0.5,0")]
    [InlineData("--lrs: learning rate 0.5 is listed twice", "--out", "x.xlsx", "--lrs", "0.5,0.5")]
    [InlineData("--iterations: a workbook holds at most", "--out", "x.xlsx", "--iterations", "20000")]
    [InlineData("--lr: learning rate must be > 0", "--out", "x.xlsx", "--lr", "-1")]
    [InlineData("--weights: expected 8", "--out", "x.xlsx", "--weights", "1,2")]
    [InlineData("--preset: unknown value 'mnist'", "--out", "x.xlsx", "--preset", "mnist")]
    public void BadInputIsOneLineAndExitTwoAndNoFile(string message, params string[] args)
    {
        var (code, stdout, stderr) = Run(args.Select(a => a == "x.xlsx" || a == "x.xls" ? Path.Combine(_dir, a) : a).ToArray());
        Assert.Equal(EraCli.ExitUsage, code);
        Assert.Contains(message, stderr);
        Assert.StartsWith("era: ", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Equal("", stdout);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void AnUnwritablePlaceIsAnErrorAndLeavesNothingBehind()
    {
        string blocker = Path.Combine(_dir, "not-a-folder");
        File.WriteAllText(blocker, "a file where the folder should be");
        var (code, _, stderr) = Run("--out", Path.Combine(blocker, "x.xlsx"), "--iterations", "3");
        Assert.Equal(EraCli.ExitUsage, code);
        Assert.StartsWith("era: --out: cannot write", stderr);
        Assert.Equal([blocker], Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void AnExistingFileIsReplacedWhole()
    {
        string path = Path.Combine(_dir, "w.xlsx");
        File.WriteAllText(path, "old");
        Assert.Equal(0, Run("--out", path, "--iterations", "3", "--lrs", "1").Code);
        Assert.Equal(["w.xlsx"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.Equal(4, WriterCells.Read(path)[BackpropWorkbook.TableSheet].Keys.Count(a => a.StartsWith('W')));
    }
}
