using System.Text.Json.Nodes;
using Era.Cli.Notebooks;
using Era.Tests.Cli;

namespace Era.Tests.Notebooks;

/// <summary>
/// `./era notebooks run` on the real kernel (the dotnet-interactive tool of dotnet-tools.json, through nbclient),
/// with small notebooks written for each test into a scratch folder of the checkout (the kernel finds its tool
/// manifest from the notebook's folder).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class NotebookRunnerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Repo.NotebooksDir, "out", "test-" + Guid.NewGuid().ToString("N")[..8]);

    public NotebookRunnerTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A notebook of C# code cells, with VS Code's metadata.</summary>
    private string Write(string name, params string[] cells)
    {
        var nb = new JsonObject
        {
            ["cells"] = new JsonArray(cells.Select((source, i) => (JsonNode)new JsonObject
            {
                ["cell_type"] = "code",
                ["execution_count"] = null,
                ["id"] = $"c{i + 1}",
                ["metadata"] = new JsonObject { ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" } },
                ["outputs"] = new JsonArray(),
                ["source"] = source,
            }).ToArray()),
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
                ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" }, // what the retired Polyglot extension wrote
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, nb.ToJsonString());
        return path;
    }

    [Fact]
    public void ExecutesCellsInOrderAndCapturesTheirOutputsAsMimeBundles()
    {
        string nb = Write("ok.ipynb",
            "var x = 6 * 7;\nConsole.WriteLine(\"printed\");",
            "System.Environment.GetEnvironmentVariable(\"ERA_QUICK\") + \"/\" + x",
            "var live = display(\"step 0\");\nfor (int i = 1; i <= 3; i++) live.Update($\"step {i}\");",
            "System.Environment.GetEnvironmentVariable(\"DOTNET_ROLL_FORWARD\")");
        string outDir = Path.Combine(_dir, "executed");
        var (code, stdout, stderr) = CliRunner.Run("notebooks", "run", nb, "--quick", "--out", outDir);
        Assert.True(code == 0, stdout + stderr);
        var cells = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "ok.ipynb")))!["cells"]!.AsArray();
        Assert.Equal([1, 2, 3, 4], cells.Select(c => (int)c!["execution_count"]!));
        Assert.Contains(cells[0]!["outputs"]!.AsArray(), o => (string?)o!["output_type"] == "stream" && Text(o["text"]).Contains("printed"));
        var result = cells[1]!["outputs"]!.AsArray().Single(o => (string?)o!["output_type"] == "execute_result")!;
        Assert.Equal("1/42", Plain(result));
        // One display updated in place ends as one output showing the last value (the kernel sends the updates under
        // another display id than the display: the runner binds them back).
        var displays = cells[2]!["outputs"]!.AsArray().Where(o => (string?)o!["output_type"] == "display_data").ToList();
        Assert.Equal("step 3", Plain(displays.Single()!));
        // The kernel was started through the installed kernelspec: its environment (the roll-forward) reached the kernel,
        // which the runner itself never sets.
        Assert.Equal("Major", Plain(cells[3]!["outputs"]!.AsArray().Single(o => (string?)o!["output_type"] == "execute_result")!));
        Assert.True(Kernelspec.IsInstalled());
        // The executed copy carries the course's metadata (C# for VS Code's Jupyter extension), whatever the input said.
        var meta = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "ok.ipynb")))!["metadata"]!;
        foreach (var (key, value) in Kernelspec.NotebookMetadata()) Assert.True(JsonNode.DeepEquals(value, meta[key]), key);
        // The original notebook is untouched: no outputs.
        Assert.Empty(JsonNode.Parse(File.ReadAllText(nb))!["cells"]![0]!["outputs"]!.AsArray());
    }

    [Fact]
    public void AFailingCellStopsTheNotebookNamesNotebookAndCellAndWritesNothing()
    {
        string nb = Write("broken.ipynb", "var a = 1;", "int b = undefinedName + 1;", "File.WriteAllText(\"never.txt\", \"ran\");");
        string before = File.ReadAllText(nb);
        var (code, _, stderr) = CliRunner.Run("notebooks", "run", nb, "--in-place");
        Assert.Equal(1, code);
        Assert.Contains("broken.ipynb: cell 2 failed", stderr);
        Assert.Contains("CS0103", stderr); // the compiler's diagnostic, not just "compilation error"
        Assert.Equal(before, File.ReadAllText(nb));
        Assert.False(File.Exists(Path.Combine(_dir, "never.txt")), "cells after the failing one must not run");
    }

    [Fact]
    public void AKernelspecThatShadowsTheInstalledOneIsRefused()
    {
        // A private copy found first (JUPYTER_PATH comes before the user's folder): the run names both and starts nothing.
        string shadow = Path.Combine(_dir, "jupyter");
        Kernelspec.Install(shadow);
        string nb = Write("shadowed.ipynb", "File.WriteAllText(\"never.txt\", \"ran\");");
        var results = NotebookRunner.Run(new NotebookRunOptions
        {
            Notebooks = [nb],
            OutputDirectory = Path.Combine(_dir, "x"),
            KernelEnvironment = new Dictionary<string, string> { ["JUPYTER_PATH"] = shadow },
        }, TextWriter.Null);
        var r = Assert.Single(results);
        Assert.False(r.Ok);
        Assert.Contains($"Jupyter finds the kernelspec .net-csharp in {Kernelspec.Folder(shadow)}, before {Kernelspec.Folder()}", r.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "never.txt")));
    }

    [Fact]
    public void ACellOverItsTimeoutIsStoppedAndReported()
    {
        string nb = Write("slow.ipynb", "1 + 1", "System.Threading.Thread.Sleep(120_000);");
        var (code, _, stderr) = CliRunner.Run("notebooks", "run", nb, "--out", Path.Combine(_dir, "x"), "--timeout-per-cell", "15");
        Assert.Equal(1, code);
        Assert.Contains("slow.ipynb: cell 2 failed: timed out after 15 s", stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "x", "slow.ipynb")));
    }

    [Fact]
    public void OptionsAreCheckedBeforeAnyKernelStarts()
    {
        var (code, _, stderr) = CliRunner.Run("notebooks", "run", "nope.ipynb");
        Assert.Equal(2, code);
        Assert.Contains("exactly one of --out DIR and --in-place", stderr);
        (code, _, stderr) = CliRunner.Run("notebooks", "run", Path.Combine(_dir, "missing.ipynb"), "--in-place");
        Assert.Equal(2, code);
        Assert.Contains("missing.ipynb: no such notebook", stderr);
        (code, _, stderr) = CliRunner.Run("notebooks", "run", "x.ipynb", "--in-place", "--timeout-per-cell", "0");
        Assert.Equal(2, code);
        Assert.Contains("--timeout-per-cell", stderr);
    }

    private static string Plain(JsonNode output) => Text(output["data"]!["text/plain"]);

    /// <summary>nbformat stores text as a string or as a list of lines.</summary>
    private static string Text(JsonNode? node) => node switch
    {
        JsonArray a => string.Concat(a.Select(t => (string?)t)),
        var v => (string?)v ?? "",
    };
}
