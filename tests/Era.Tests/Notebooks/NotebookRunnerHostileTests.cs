using System.Diagnostics;
using System.Text.Json.Nodes;
using Era.Tests.Cli;

namespace Era.Tests.Notebooks;

/// <summary>
/// `./era notebooks run` against what a hostile user does: a cell printing 20,000 lines (every line kept, in one
/// output), a cell printing past the runner's cap (cut, and said so), --out that cannot be written and a lib/ that
/// does not compile (one line before any kernel), and the terminal closed or era signalled mid-run (no kernel and no
/// temporary file survives). Real kernels, one at a time.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class NotebookRunnerHostileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Repo.NotebooksDir, "out", "hostile-" + Guid.NewGuid().ToString("N")[..8]);

    public NotebookRunnerHostileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A notebook of C# cells (nbformat 4.5, the kernelspec the runner starts).</summary>
    internal static string Notebook(string path, params string[] cells)
    {
        var json = new JsonObject
        {
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
            ["metadata"] = new JsonObject { ["kernelspec"] = new JsonObject { ["name"] = ".net-csharp", ["display_name"] = ".NET (C#)", ["language"] = "C#" } },
            ["cells"] = new JsonArray([.. cells.Select((c, i) => (JsonNode)new JsonObject
            {
                ["id"] = $"h{i}", ["cell_type"] = "code", ["metadata"] = new JsonObject(), ["execution_count"] = null, ["outputs"] = new JsonArray(), ["source"] = c,
            })]),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static string Text(JsonNode? node) => node is JsonArray a ? string.Concat(a.Select(t => (string?)t)) : (string?)node ?? "";

    [Fact]
    public void EveryLineIsKeptInOneOutputAndACutIsSaid()
    {
        const int Cap = 400_000;
        string nb = Notebook(Path.Combine(_dir, "long.ipynb"),
            "for (int i = 0; i < 20000; i++) Console.WriteLine($\"line {i}\");",
            "for (int i = 0; i < 60000; i++) Console.WriteLine($\"overflow {i}\");");
        string outDir = Path.Combine(_dir, "executed");
        Environment.SetEnvironmentVariable("ERA_STREAM_CAP", Cap.ToString(System.Globalization.CultureInfo.InvariantCulture));
        (int code, string stdout, string stderr) run;
        try
        {
            run = CliRunner.Run("notebooks", "run", nb, "--out", outDir);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ERA_STREAM_CAP", null);
        }
        Assert.True(run.code == 0, run.stdout + run.stderr);
        var cells = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "long.ipynb")))!["cells"]!.AsArray();

        var first = Assert.Single(cells[0]!["outputs"]!.AsArray())!;
        Assert.Equal(("stream", "stdout"), ((string?)first["output_type"], (string?)first["name"]));
        Assert.Equal(Enumerable.Range(0, 20000).Select(i => $"line {i}"), Text(first["text"]).Split('\n')[..^1]);

        var second = Assert.Single(cells[1]!["outputs"]!.AsArray())!;
        string text = Text(second["text"]);
        string all = string.Concat(Enumerable.Range(0, 60000).Select(i => $"overflow {i}\n"));
        var m = System.Text.RegularExpressions.Regex.Match(text, @"\n\[era: output cut at 400,000 characters; ([\d,]+) more were not kept\]\n$");
        Assert.True(m.Success, text[^200..]);
        Assert.Equal(all[..Cap], text[..m.Index]);
        Assert.Equal(all.Length - Cap, int.Parse(m.Groups[1].Value.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("long.ipynb: cell 2 printed more than the runner keeps; its output is cut, and the notebook says so", run.stdout);
    }

    [Fact]
    public void AnOutThatCannotBeWrittenIsOneLineBeforeAnyKernel()
    {
        string nb = Notebook(Path.Combine(_dir, "never.ipynb"), "File.WriteAllText(\"ran.txt\", \"ran\");");
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "");
        var (code, stdout, stderr) = CliRunner.Run("notebooks", "run", nb, "--out", file);
        Assert.Equal(2, code);
        Assert.Equal($"era: notebooks: --out: '{file}' is a file, not a folder", stderr.Trim());
        Assert.Equal("", stdout);

        (code, stdout, stderr) = CliRunner.Run("notebooks", "run", nb, "--out", "/proc/era-notebooks");
        Assert.Equal(2, code);
        Assert.StartsWith("era: notebooks: --out: ", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Equal("", stdout);
        Assert.False(File.Exists(Path.Combine(_dir, "ran.txt")));
    }

    [Fact]
    public void ALibThatDoesNotCompileIsOneLine()
    {
        // A checkout of its own whose lib/Era does not compile (the real lib/ is never touched).
        string root = Directory.CreateTempSubdirectory("era-broken-lib-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(root, "Era.sln"), "");
            File.Copy(Path.Combine(Repo.Root, "dotnet-tools.json"), Path.Combine(root, "dotnet-tools.json"));
            foreach (var d in new[] { "lib/Era", "lib/Era.Notebooks", "lib/Era.Torch" }) Directory.CreateDirectory(Path.Combine(root, d));
            File.WriteAllText(Path.Combine(root, "lib/Era/Era.csproj"),
                "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>");
            File.WriteAllText(Path.Combine(root, "lib/Era/Broken.cs"), "class Broken { int x = undefinedName; }");
            string nb = Notebook(Path.Combine(root, "notebooks", "x.ipynb"), "1");
            var (code, _, stderr) = CliRunner.Run("notebooks", "run", nb, "--out", Path.Combine(root, "out"));
            Assert.Equal(2, code);
            Assert.Single(stderr.Trim().Split('\n'));
            Assert.StartsWith("era: notebooks: dotnet pack lib/Era/Era.csproj failed: ", stderr);
            Assert.Contains("error CS0103", stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void AKernelKilledByAStackOverflowSaysSo()
    {
        string nb = Notebook(Path.Combine(_dir, "recursion.ipynb"), "int F(int n) => F(n + 1) + 1;\nF(0)");
        var (code, _, stderr) = CliRunner.Run("notebooks", "run", nb, "--out", Path.Combine(_dir, "executed"));
        Assert.Equal(1, code);
        Assert.Contains("recursion.ipynb: cell 1 failed: the kernel died: Kernel died (Stack overflow.)", stderr);
    }

    /// <summary>Processes whose environment holds <paramref name="tag"/> (the kernel inherits the runner's).</summary>
    private static List<int> Tagged(string tag)
    {
        var found = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "environ")).Contains(tag, StringComparison.Ordinal)) found.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // gone meanwhile
        }
        return found;
    }

    private static void Kill(string signal, string target)
    {
        using var kill = Process.Start("kill", [$"-{signal}", "--", target])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    [Theory]
    [InlineData("HUP", true, 129)]    // the terminal closed: the whole group
    [InlineData("TERM", false, 143)]  // era alone
    [InlineData("INT", true, 130)]    // Ctrl+C: the whole group
    public async Task ASignalEndsTheKernelAndRemovesTheTemporaryFiles(string signal, bool group, int exitCode)
    {
        string tag = "ERA_SIGNAL_TEST=" + Guid.NewGuid().ToString("N");
        string tmp = Directory.CreateDirectory(Path.Combine(_dir, "tmp")).FullName;
        string marker = Path.Combine(_dir, "started");
        string nb = Notebook(Path.Combine(_dir, "forever.ipynb"), $"System.IO.File.WriteAllText(@\"{marker}\", \"\"); System.Threading.Thread.Sleep(600_000);");
        var start = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", typeof(Era.Cli.Cli).Assembly.Location,
                     "notebooks", "run", nb, "--out", Path.Combine(_dir, "executed") })
            start.ArgumentList.Add(a);
        start.Environment["TMPDIR"] = tmp;
        start.Environment["JUPYTER_RUNTIME_DIR"] = Path.Combine(tmp, "runtime");
        start.Environment[tag.Split('=')[0]] = tag.Split('=')[1];
        using var era = Process.Start(start)!;   // setsid: its own process group, whose id is its pid
        var stdout = era.StandardOutput.ReadToEndAsync();
        var stderr = era.StandardError.ReadToEndAsync();
        for (int i = 0; i < 6000 && !File.Exists(marker) && !era.HasExited; i++) await Task.Delay(100);   // the kernel runs cell 1
        if (!File.Exists(marker))
        {
            era.Kill(entireProcessTree: true);
            Assert.Fail("the cell never started: " + await stdout + await stderr);
        }
        Assert.Contains(Tagged(tag), pid => File.ReadAllText($"/proc/{pid}/cmdline").Contains("dotnet-interactive", StringComparison.Ordinal));

        Kill(signal, group ? $"-{era.Id}" : $"{era.Id}");
        await era.WaitForExitAsync();
        Assert.True(era.ExitCode == exitCode, $"exit {era.ExitCode}: {await stdout}{await stderr}");
        var left = Tagged(tag);
        for (int i = 0; i < 300 && left.Count > 0; i++)   // killed processes take a moment to be reaped
        {
            await Task.Delay(100);
            left = Tagged(tag);
        }
        Assert.True(left.Count == 0, $"still running: {string.Join(", ", left.Select(p => File.ReadAllText($"/proc/{p}/cmdline").Replace('\0', ' ')))}");
        // Nothing of the runner's (era-notebooks-*), the driver's (era-kernelspec-*, the connection file tmp*.json) or of
        // a killed .NET process's (its diagnostics pipes); what dotnet and NuGet keep across runs (NuGetScratch) may stay.
        var entries = Directory.GetFileSystemEntries(tmp, "*", SearchOption.AllDirectories).Select(e => Path.GetRelativePath(tmp, e)).ToList();
        string[] ours = ["era-", "tmp", "kernel-", "clr-debug-pipe-", "dotnet-diagnostic-", "CoreFxPipe_"];
        Assert.True(!entries.Any(e => ours.Any(o => Path.GetFileName(e).StartsWith(o, StringComparison.Ordinal))), string.Join(", ", entries));
    }
}
