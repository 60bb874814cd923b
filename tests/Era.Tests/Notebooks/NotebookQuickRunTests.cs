using System.Text.Json.Nodes;
using Era.Tests.Cli;

namespace Era.Tests.Notebooks;

/// <summary>
/// Every course notebook runs, top to bottom, on the real kernel in quick mode (ERA_QUICK=1: long cells made short)
/// — the way CI proves a notebook works, not only that its committed outputs look right.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class NotebookQuickRunTests
{
    public static TheoryData<string> Names => Repo.NotebookNames();

    [Theory, MemberData(nameof(Names))]
    public void RunsOnTheRealKernelInQuickMode(string name)
    {
        string outDir = Path.Combine(Path.GetTempPath(), "era-nb-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (code, stdout, stderr) = CliRunner.Run("notebooks", "run", Path.Combine(Repo.NotebooksDir, name), "--quick", "--out", outDir, "--timeout-per-cell", "600");
            Assert.True(code == 0, $"{stderr}\n{stdout}");
            var cells = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, name)))!["cells"]!.AsArray();
            var outputs = cells.Where(c => (string?)c!["cell_type"] == "code").SelectMany(c => c!["outputs"]!.AsArray()).ToList();
            Assert.DoesNotContain(outputs, o => (string?)o!["output_type"] == "error");
            Assert.NotEmpty(outputs);
            // The runner keeps the kernel's loader chatter out, and the cells print no path of this machine.
            var found = MachineText.Outputs(JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, name)))!.AsObject())
                .SelectMany(o => MachineText.Find(o.Text).Select(f => $"cell {o.Cell}: {f}")).ToList();
            Assert.True(found.Count == 0, $"{name}: {string.Join("; ", found)}");
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }
}
