using System.Diagnostics;
using System.Text.Json;
using Era.Backprop;
using Era.Cli;
using Era.Excel.Checking;

namespace Era.Tests.Excel.Checking;

/// <summary>`era check-sheet` end to end, in-process: exit codes, text and JSON output, and that it writes nothing.</summary>
public sealed class CheckerCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-check-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Era.Tests.Cli.CliRunner.Run(args);

    private string Save(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static StudentWorkbook Book(int rows, Func<int, string, Dictionary<string, double>, Dictionary<string, double>?, double?>? plant = null) => new()
    {
        Rows = StudentTables.Simulate(NetworkConfig.Classic, rows, plant),
        LearningRate = 0.5,
        Eta = new EtaLabel("η", Row: 1, Col: 33),
        Formulas = true,
    };

    [Fact]
    public void ACorrectSheetExitsZero()
    {
        var (code, output, err) = Run("check-sheet", Save("ok.xlsx", Book(30).Build()));
        Assert.Equal(0, code);
        Assert.Contains("all correct", output, StringComparison.Ordinal);
        Assert.Equal("", err);
    }

    [Fact]
    public void FindingsExitOneAndTheJsonHasTheAgreedShape()
    {
        var book = Book(50, (i, name, r, prev) => name == "o2" ? r["w7"] * r["a_h1"] + r["w8"] * r["a_h1"]
            : i >= 39 && name == "w6" ? prev!["w6"] - 0.5 * prev["dE/dw5"] : null);
        string path = Save("planted.xlsx", book.Build());

        var (code, text, _) = Run("check-sheet", path);
        Assert.Equal(1, code);
        Assert.Contains("S2", text, StringComparison.Ordinal);
        Assert.Contains("=O2*J2+P2*L2", text, StringComparison.Ordinal);
        Assert.Contains("wrong from row 41 on (N41:N51, 11 cells)", text, StringComparison.Ordinal);

        (code, var json, _) = Run("check-sheet", path, "--json", "--sheet", "Sheet1");
        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.False(root.GetProperty("ok").GetBoolean());
        Assert.Equal("Sheet1", root.GetProperty("sheet").GetString());
        Assert.Equal(0.5, root.GetProperty("learningRate").GetDouble());
        var findings = root.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(2, findings.Count);
        var f = findings[0];
        Assert.Equal(("S2", 2, "o2", "column"), (f.GetProperty("cell").GetString(), f.GetProperty("row").GetInt32(),
            f.GetProperty("column").GetString(), f.GetProperty("kind").GetString()));
        Assert.Equal(book.Rows[0]["o2"], f.GetProperty("found").GetDouble());
        Assert.Equal("=O2*J2+P2*L2", f.GetProperty("formula").GetString());
        Assert.True(f.TryGetProperty("expected", out var expected) && expected.ValueKind == JsonValueKind.Number);
        Assert.Equal(("N41", "from-row"), (findings[1].GetProperty("cell").GetString(), findings[1].GetProperty("kind").GetString()));
    }

    [Fact]
    public void AnUnreadableFileExitsTwoWithOneMessageAndWritesNothing()
    {
        string path = Save("notes.xlsx", "t1;t2\n0.01;0.99\n"u8.ToArray());
        var before = Directory.GetFiles(_dir);
        var (code, output, err) = Run("check-sheet", path);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith($"era: {path}: not an .xlsx workbook", err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Equal(before, Directory.GetFiles(_dir));

        (code, output, _) = Run("check-sheet", path, "--json");
        Assert.Equal(2, code);
        using var doc = JsonDocument.Parse(output);
        Assert.False(doc.RootElement.GetProperty("ok").GetBoolean());
        Assert.Contains("not an .xlsx", doc.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFilesAndSheetsExitTwo()
    {
        var (code, _, err) = Run("check-sheet", Path.Combine(_dir, "nope.xlsx"));
        Assert.Equal((2, true), (code, err.Contains("no such file", StringComparison.Ordinal)));
        (code, _, err) = Run("check-sheet", _dir);
        Assert.Equal((2, true), (code, err.Contains("directory", StringComparison.Ordinal)));
        (code, _, err) = Run("check-sheet", Save("ok.xlsx", Book(5).Build()), "--sheet", "Table");
        Assert.Equal((2, true), (code, err.Contains("no sheet named 'Table'", StringComparison.Ordinal)));
        (code, _, _) = Run("check-sheet");
        Assert.Equal(2, code);
    }

    [Fact]
    public void AHugeTextInACellIsQuotedShortly()
    {
        // A million characters pasted into h1 of the third iteration: reported as a wrong cell, its text clipped.
        var book = Book(10) with
        {
            Overrides = new Dictionary<(int, string), XCell> { [(2, "h1")] = new XText(new string('x', 1_000_000)) },
        };
        string path = Save("huge.xlsx", book.Build());
        foreach (var args in new[] { new[] { "check-sheet", path }, ["check-sheet", path, "--json"] })
        {
            var (code, output, err) = Run(args);
            Assert.Equal((1, ""), (code, err));
            Assert.Contains(book.Cell(2, "h1"), output, StringComparison.Ordinal);
            Assert.Contains(new string('x', 64) + "…", output, StringComparison.Ordinal);
            Assert.True(output.Length < 100_000, $"{output.Length} characters of output");
        }
    }

    [Fact]
    public async Task APipeOrADeviceIsRefusedWithoutReadingIt()
    {
        if (!OperatingSystem.IsLinux()) return; // mkfifo and /dev/zero
        // A named pipe: opening it to read would wait for a writer forever. A link to /dev/zero: reading never ends.
        string fifo = Path.Combine(_dir, "pipe.xlsx");
        using (var mk = Process.Start("mkfifo", fifo)) mk.WaitForExit();
        Assert.True(File.Exists(fifo));
        string zero = Path.Combine(_dir, "zero.xlsx");
        File.CreateSymbolicLink(zero, "/dev/zero");
        foreach (string path in new[] { fifo, zero })
        {
            var run = Task.Run(() => Run("check-sheet", path));
            bool done = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10))) == run;
            if (!done && path == fifo)
            {
                using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write); // lets the stuck reader go
            }
            Assert.True(done, $"check-sheet {Path.GetFileName(path)} did not return within 10 s");
            var (code, output, err) = await run;
            Assert.Equal((2, ""), (code, output));
            Assert.Contains("not a regular file (a pipe or a device)", err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A200RowSheetIsCheckedCorrect()
    {
        // How fast this runs is a benchmark's question, not a test's: the suite must pass on a busy machine.
        var book = Book(200);
        string path = Save("big.xlsx", book.Build());
        var (code, output, err) = Run("check-sheet", path, "--json");
        Assert.Equal((0, ""), (code, err));
        using var verdict = System.Text.Json.JsonDocument.Parse(output);
        Assert.True(verdict.RootElement.GetProperty("ok").GetBoolean());
        Assert.True(SheetChecker.Check(path).Ok);
    }
}
