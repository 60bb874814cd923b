using System.Diagnostics;
using System.Text.Json.Nodes;
using Era.Cli.Notebooks;
using Era.Cli.Setup;
using Era.Tests.Engine;

namespace Era.Tests.Setup;

/// <summary>The kernelspec `./era setup` installs, in a scratch Jupyter data folder: what it starts, that Jupyter's own
/// `jupyter kernelspec list` finds it, that installing twice changes nothing and that it can be removed.</summary>
public sealed class KernelspecTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("era-jupyter-data-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public void ItStartsThePinnedToolLocalOnlyAndRollsForwardToANewerDotnet()
    {
        var spec = Kernelspec.Spec();
        var argv = spec["argv"]!.AsArray().Select(a => (string)a!).ToList();
        var (tool, _) = SystemSetupHost.PinnedTools(PyTorchRunner.RepoRoot).Single();
        Assert.Equal("microsoft.dotnet-interactive", tool);
        // `dotnet tool run` from the notebook's folder: the version dotnet-tools.json pins, not a global tool.
        Assert.Equal(["dotnet", "tool", "run", "dotnet-interactive", "--", "jupyter"], argv[..6]);
        Assert.Contains("--http-local-only", argv);
        Assert.Equal("{connection_file}", argv[^1]);
        Assert.Equal("Major", (string?)spec["env"]!["DOTNET_ROLL_FORWARD"]);
        Assert.Equal((".NET (C#)", "C#"), ((string?)spec["display_name"], (string?)spec["language"]));
    }

    [Fact]
    public void JupyterListsItAfterInstallAndNotAfterRemove_AndASecondInstallChangesNothing()
    {
        Assert.False(Kernelspec.IsInstalled(_data));
        string folder = Kernelspec.Install(_data);
        Assert.True(Kernelspec.IsInstalled(_data));
        string file = Path.Combine(folder, "kernel.json");
        byte[] first = File.ReadAllBytes(file);

        var listed = JupyterKernelspecs();
        Assert.True(listed.ContainsKey(Kernelspec.Name), $"jupyter kernelspec list: {listed.ToJsonString()}");
        var found = listed[Kernelspec.Name]!;
        Assert.Equal(Path.GetFullPath(folder), Path.GetFullPath((string)found["resource_dir"]!));
        // What Jupyter will start: the same argv (with --http-local-only) and environment (with the roll-forward).
        Assert.True(JsonNode.DeepEquals(Kernelspec.Spec()["argv"], found["spec"]!["argv"]), found.ToJsonString());
        Assert.True(JsonNode.DeepEquals(Kernelspec.Spec()["env"], found["spec"]!["env"]), found.ToJsonString());

        Kernelspec.Install(_data);
        Assert.Equal(first, File.ReadAllBytes(file));

        Assert.True(Kernelspec.Remove(_data));
        Assert.False(Directory.Exists(folder));
        // (Jupyter also searches the user's own folder after JUPYTER_DATA_DIR, which may hold the machine's kernelspec.)
        var after = JupyterKernelspecs();
        Assert.False(after.ContainsKey(Kernelspec.Name) && Path.GetFullPath((string)after[Kernelspec.Name]!["resource_dir"]!) == Path.GetFullPath(folder));
        Assert.False(Kernelspec.Remove(_data));
    }

    [Fact]
    public void TheKernelspecDotnetInteractiveInstallsIsNotTakenForOurs()
    {
        // What `dotnet interactive jupyter install` writes: no --http-local-only, no roll-forward.
        string folder = Kernelspec.Folder(_data);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "kernel.json"),
            """{"argv": ["dotnet", "interactive", "jupyter", "--default-kernel", "csharp", "{connection_file}", "--http-port-range", "2048-3000"], "env": {}, "display_name": ".NET (C#)", "language": "C#"}""");
        Assert.False(Kernelspec.IsInstalled(_data));
        File.WriteAllText(Path.Combine(folder, "kernel.json"), "{ not json");
        Assert.False(Kernelspec.IsInstalled(_data));
        Kernelspec.Install(_data);
        Assert.True(Kernelspec.IsInstalled(_data));
    }

    /// <summary>`jupyter kernelspec list --json` with this test's data folder: name → {resource_dir, spec}.</summary>
    private JsonObject JupyterKernelspecs()
    {
        var psi = new ProcessStartInfo("jupyter", ["kernelspec", "list", "--json"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["JUPYTER_DATA_DIR"] = _data;
        psi.Environment.Remove("JUPYTER_PATH");
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"jupyter kernelspec list failed (apt-get install jupyter-client): {stderr.Result}");
        return JsonNode.Parse(json)!["kernelspecs"]!.AsObject();
    }
}
