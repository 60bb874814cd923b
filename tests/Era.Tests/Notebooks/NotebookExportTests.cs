using System.Diagnostics;
using System.Text.Json.Nodes;
using Era.Cli.Notebooks;
using Era.Tests.Cli;

namespace Era.Tests.Notebooks;

/// <summary>`./era notebooks export`: every notebook also a C# file-based app (notebooks/apps/NN-name.cs), generated
/// from the notebook, committed in sync with it, and running without a kernel.</summary>
public sealed class NotebookExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Names => Repo.NotebookNames();

    [Theory, MemberData(nameof(Names))]
    public void TheCommittedAppIsWhatExportMakesOfTheNotebook(string name)
    {
        string notebook = Path.Combine(Repo.NotebooksDir, name);
        string app = NotebookExport.AppPath(notebook);
        Assert.Equal(Path.Combine(Repo.NotebooksDir, "apps", Path.ChangeExtension(name, ".cs")), app);
        Assert.True(File.Exists(app), $"{app} is missing: run ./era notebooks export");
        Assert.True(NotebookExport.Translate(notebook) == File.ReadAllText(app),
            $"{Path.GetFileName(app)} differs from its notebook: run ./era notebooks export and commit the result");
    }

    [Fact]
    public void CellsBecomeCommentsDirectivesTopLevelStatementsAndShowCalls()
    {
        string nb = Write("07-rules.ipynb",
            ("markdown", "# Title\n\nSome *text*."),
            ("code", "#r \"nuget: Era.Notebooks, 1.0.0-local\""),
            ("code", "using Era.Backprop;\n\n// a comment\nvar config = NetworkConfig.Classic;\nconfig"),
            ("code", "const double h = 1e-6;\ndouble Twice(double x) => 2 * x;\nforeach (var n in new[] { 1, 2 })\n    display(Twice(n));"),
            ("code", "record Point(double X, double Y);\nnew Point(1, 2)"));
        string app = NotebookExport.Translate(nb);
        Assert.Contains("#:project ../../lib/Era.Notebooks/Era.Notebooks.csproj\n", app);
        Assert.DoesNotContain("#r ", app);
        Assert.Contains("// # Title\n//\n// Some *text*.\n", app);
        // usings first (before any statement), the trailing expression and display(…) as Show(…).
        Assert.True(app.IndexOf("using Era.Backprop;\n", StringComparison.Ordinal) < app.IndexOf("Start(\"07-rules\");", StringComparison.Ordinal));
        Assert.Contains("Cell(3);\n// a comment\nvar config = NetworkConfig.Classic;\nShow(config);\n", app);
        Assert.Contains("Cell(4);\nconst double h = 1e-6;\ndouble Twice(double x) => 2 * x;\nforeach (var n in new[] { 1, 2 })\n    Show(Twice(n));\n", app);
        Assert.Contains("Cell(5);\nShow(new Point(1, 2));\n", app);
        Assert.EndsWith("\nrecord Point(double X, double Y);\n", app); // types after the top-level statements
    }

    [Fact]
    public void AnAppShowsADataFrameAsAlignedColumns()
    {
        var frame = new Microsoft.Data.Analysis.DataFrame(
            new Microsoft.Data.Analysis.StringDataFrameColumn("weight", ["w1", "w2", "w3"]),
            new Microsoft.Data.Analysis.DoubleDataFrameColumn("derived", [0.00018825566694011210, -0.04245525009260471, 1]));
        Assert.Equal("weight  derived\nw1      0.0001882556669401121\nw2      -0.04245525009260471\n… 1 more rows (3 in all)",
            Era.Notebooks.NotebookApp.Text(frame, rows: 2));
    }

    [Theory]
    [InlineData("#!fsharp\nlet x = 1", "cell 2: the magic command '#!fsharp' has no C# form")]
    [InlineData("var x = ;", "cell 2: does not parse as C#: ")]
    [InlineData("#r \"nuget: Newtonsoft.Json, 13.0.3\"", "cell 2: '#r \"nuget: Newtonsoft.Json, 13.0.3\"' loads a package that is not the course's")]
    [InlineData("#load \"other.csx\"", "cell 2: the directive '#load \"other.csx\"' has no file-based-app form")]
    public void ACellItCannotTranslateNamesNotebookAndCellAndNothingIsWritten(string code, string error)
    {
        string good = Write("01-good.ipynb", ("code", "1 + 1"));
        string bad = Write("02-bad.ipynb", ("markdown", "# Bad"), ("code", code));
        var (exit, _, stderr) = CliRunner.Run("notebooks", "export", good, bad);
        Assert.Equal(2, exit);
        Assert.Contains($"era: notebooks export: 02-bad.ipynb: {error}", stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir, "apps")), "nothing is written, not even the good notebook's app");

        (exit, var stdout, _) = CliRunner.Run("notebooks", "export", good);
        Assert.Equal(0, exit);
        Assert.Contains("01-good.cs", stdout);
        Assert.Contains("Show(1 + 1);", File.ReadAllText(Path.Combine(_dir, "apps", "01-good.cs")));
    }

    /// <summary>Notebooks 1–3 as apps, quick, with `dotnet run` (no kernel): every one-line result the notebook's cells
    /// end on (the finite-difference agreement, the table, the workbook check, the figures' titles) is printed the same
    /// as in the notebook's committed outputs, and notebook 1's figure is written as HTML and PNG.</summary>
    [Theory]
    [InlineData("01-chain-rule")]
    [InlineData("02-backprop-table")]
    [InlineData("03-learning-rates")]
    public void TheAppRunsQuickAndPrintsTheNotebooksKeyLines(string name)
    {
        var (exit, output) = DotnetRun($"notebooks/apps/{name}.cs");
        Assert.True(exit == 0, $"dotnet run {name}.cs failed ({exit}):\n{output}");

        var expected = KeyLines(Path.Combine(Repo.NotebooksDir, name + ".ipynb"));
        Assert.NotEmpty(expected);
        foreach (var line in expected) Assert.Contains(line, output);
        if (name == "01-chain-rule")
        {
            string figures = Path.Combine(Repo.NotebooksDir, "out", name);
            Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(Path.Combine(figures, "cell05-1.html")));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(figures, "cell05-1.png"))[..4]);
        }
    }

    /// <summary>Notebooks 4 and 5 as apps, quick, in order (5 loads the weights 4 saves): the gradient check passes, one
    /// epoch trains and is evaluated, TorchSharp agrees with the engine on every image. Quick numbers are not the
    /// committed full run's, so the lines are checked for what they say, not for their digits.</summary>
    [Fact]
    public void TheTrainingAppsRunQuickInOrder()
    {
        var (exit, output) = DotnetRun("notebooks/apps/04-mnist-cnn.cs");
        Assert.True(exit == 0, $"dotnet run 04-mnist-cnn.cs failed ({exit}):\n{output}");
        // The gradient check does not depend on quick mode: the same line as the notebook's committed output.
        Assert.Contains(KeyLines(Path.Combine(Repo.NotebooksDir, "04-mnist-cnn.ipynb"), all: true).Single(l => l.Contains("entries checked", StringComparison.Ordinal)), output);
        Assert.Matches(@"1 epochs in \d+ s; test accuracy after the last: \d+\.\d\d%", output);
        Assert.Matches(@"reloaded, it scores \d+\.\d\d% on the same test images", output);

        (exit, output) = DotnetRun("notebooks/apps/05-torchsharp.cs");
        Assert.True(exit == 0, $"dotnet run 05-torchsharp.cs failed ({exit}):\n{output}");
        Assert.Matches(@"same prediction on (\d+) of \1 images; engine accuracy (\d+\.\d\d)%, TorchSharp \2%", output);
        Assert.Contains("caught in C#, the kernel lives: course: expected images of shape [N, 1, H, W], got [8, 3, 28, 28]", output);
    }

    /// <summary>`ERA_QUICK=1 dotnet run APP` from the checkout: exit code, stdout then stderr.</summary>
    private static (int Code, string Output) DotnetRun(string app)
    {
        var psi = new ProcessStartInfo("dotnet", ["run", app]) { WorkingDirectory = Repo.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["ERA_QUICK"] = "1";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output + stderr.Result);
    }

    /// <summary>The committed one-line results of the code cells that end on a string (an interpolated one, a
    /// string.Join) or a figure (<paramref name="all"/>: any one-line result), except those naming a file (absolute
    /// paths and sizes differ from machine to machine).</summary>
    private static List<string> KeyLines(string notebook, bool all = false)
    {
        var lines = new List<string>();
        foreach (var cell in JsonNode.Parse(File.ReadAllText(notebook))!["cells"]!.AsArray().Where(c => (string?)c!["cell_type"] == "code"))
        {
            string last = Text(cell!["source"]).TrimEnd().Split('\n')[^1];
            bool isString = last.StartsWith("$\"", StringComparison.Ordinal) || last.StartsWith("string.Join(", StringComparison.Ordinal);
            foreach (var o in cell["outputs"]!.AsArray().Where(o => (string?)o!["output_type"] == "execute_result"))
                if (Text(o!["data"]!["text/plain"]) is var text && text.Length > 0 && !text.Contains('/') && !text.Contains('\n')
                    && (isString || all || text.StartsWith("Figure: ", StringComparison.Ordinal)))
                    lines.Add(text);
        }
        return lines;
    }

    private string Write(string name, params (string Type, string Source)[] cells)
    {
        var nb = new JsonObject
        {
            ["cells"] = new JsonArray(cells.Select((c, i) => (JsonNode)new JsonObject
            {
                ["cell_type"] = c.Type,
                ["id"] = $"c{i + 1}",
                ["metadata"] = new JsonObject(),
                ["source"] = c.Source,
            }).ToArray()),
            ["metadata"] = Kernelspec.NotebookMetadata(),
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, nb.ToJsonString());
        return path;
    }

    private static string Text(JsonNode? node) => node switch
    {
        JsonArray a => string.Concat(a.Select(t => (string?)t)),
        var v => (string?)v ?? "",
    };
}
