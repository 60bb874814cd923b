using System.Diagnostics;
using System.Text.Json.Nodes;
using Era.Cli.Notebooks;

namespace Era.Tests.Notebooks;

/// <summary>
/// The course's kernel on a machine whose only .NET runtime is .NET 11: the 11.0.0 runtime packs from NuGet
/// (Microsoft.NETCore.App and Microsoft.AspNetCore.App) laid out as a .NET folder beside the installed SDK, DOTNET_ROOT
/// and PATH pointed at it, and notebook 01 run quick through the installed kernelspec. The pinned kernel tool targets
/// .NET 10: it starts there only because the kernelspec lets it roll forward.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class Dotnet11Tests : IDisposable
{
    private const string Runtime = "11.0.0";
    private readonly string _scratch = Directory.CreateTempSubdirectory("era-dotnet11-").FullName;
    private readonly string _dir = Path.Combine(Repo.NotebooksDir, "out", "test-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        Directory.Delete(_scratch, recursive: true);
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void NotebookOneRunsQuickOnDotnet11ThroughTheInstalledKernelspec()
    {
        string dotnet = LayOutDotnet11();
        var env = new Dictionary<string, string>
        {
            ["DOTNET_ROOT"] = dotnet,
            ["PATH"] = dotnet + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
        };
        // Only .NET 11 there: without roll-forward the SDK and the kernel tool cannot start (exit 150).
        Assert.Equal($"Microsoft.AspNetCore.App {Runtime} [{dotnet}/shared/Microsoft.AspNetCore.App]\nMicrosoft.NETCore.App {Runtime} [{dotnet}/shared/Microsoft.NETCore.App]",
            Run(Path.Combine(dotnet, "dotnet"), env, "--list-runtimes").Output.Trim());
        Assert.Equal(150, Run(Path.Combine(dotnet, "dotnet"), env, "tool", "run", "dotnet-interactive", "--", "--version").Code);
        // The CLI (net10.0, RollForward=Major) runs there as it is.
        var cli = Run(Path.Combine(dotnet, "dotnet"), env, Path.Combine(AppContext.BaseDirectory, "Era.Cli.dll"), "setup", "--help");
        Assert.True(cli.Code == 0, cli.Output);

        // Notebook 01 as committed, plus one cell that says which runtime ran it.
        Directory.CreateDirectory(_dir);
        var nb = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.NotebooksDir, "01-chain-rule.ipynb")))!;
        var probe = nb["cells"]!.AsArray().First(c => (string?)c!["cell_type"] == "code")!.DeepClone();
        probe["id"] = "dotnet11-probe";
        probe["outputs"] = new JsonArray();
        probe["execution_count"] = null;
        probe["source"] = "System.Environment.Version + \" \" + System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory()";
        nb["cells"]!.AsArray().Add(probe);
        string notebook = Path.Combine(_dir, "01-chain-rule.ipynb");
        File.WriteAllText(notebook, nb.ToJsonString());

        var log = new StringWriter();
        var result = NotebookRunner.Run(new NotebookRunOptions
        {
            Notebooks = [notebook],
            Quick = true,
            OutputDirectory = Path.Combine(_dir, "executed"),
            CellTimeout = TimeSpan.FromMinutes(10),
            KernelEnvironment = env,
        }, log).Single();
        Assert.True(result.Ok, NotebookRunner.Describe(result) + "\n" + log);
        var cells = JsonNode.Parse(File.ReadAllText(result.OutputPath!))!["cells"]!.AsArray();
        var last = cells[^1]!["outputs"]!.AsArray().Single(o => (string?)o!["output_type"] == "execute_result")!;
        string ran = Text(last["data"]!["text/plain"]);
        Assert.StartsWith($"{Runtime} {dotnet}/shared/Microsoft.NETCore.App/{Runtime}/", ran);
        Assert.DoesNotContain(cells.SelectMany(c => c!["outputs"]?.AsArray() ?? []), o => (string?)o!["output_type"] == "error");
    }

    /// <summary>A .NET folder with the 11.0.0 runtimes only: the muxer and SDK of the installed .NET (the SDK hard-linked,
    /// since a symbolic link would lead it back to its own folder and runtimes), hostfxr and both shared frameworks
    /// from the runtime packs.</summary>
    private string LayOutDotnet11()
    {
        string installed = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        string project = Path.Combine(_scratch, "packs");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "packs.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
              <ItemGroup>
                <PackageDownload Include="Microsoft.NETCore.App.Runtime.linux-x64" Version="[{Runtime}]" />
                <PackageDownload Include="Microsoft.AspNetCore.App.Runtime.linux-x64" Version="[{Runtime}]" />
              </ItemGroup>
            </Project>
            """);
        var restore = Run("dotnet", NoEnv, "restore", Path.Combine(project, "packs.csproj"));
        Assert.True(restore.Code == 0, restore.Output);
        string packages = NotebookPackages.GlobalPackagesFolder(project);
        string core = Path.Combine(packages, "microsoft.netcore.app.runtime.linux-x64", Runtime, "runtimes", "linux-x64");
        string asp = Path.Combine(packages, "microsoft.aspnetcore.app.runtime.linux-x64", Runtime, "runtimes", "linux-x64");

        string root = Path.Combine(_scratch, "dotnet");
        Link(Path.Combine(installed, "dotnet"), root);
        foreach (var folder in new[] { "sdk", "packs", "sdk-manifests" })
            if (Directory.Exists(Path.Combine(installed, folder))) Link(Path.Combine(installed, folder), root);
        Link(Path.Combine(core, "native", "libhostfxr.so"), Path.Combine(root, "host", "fxr", Runtime));
        Link(Path.Combine(core, "lib", "net11.0") + "/.", Path.Combine(root, "shared", "Microsoft.NETCore.App", Runtime));
        Link(Path.Combine(core, "native") + "/.", Path.Combine(root, "shared", "Microsoft.NETCore.App", Runtime));
        Link(Path.Combine(asp, "lib", "net11.0") + "/.", Path.Combine(root, "shared", "Microsoft.AspNetCore.App", Runtime));
        return root;
    }

    /// <summary>cp -al (hard links: no space, and the files' own folder is the new one), or cp -a across file systems.</summary>
    private static void Link(string source, string intoFolder)
    {
        Directory.CreateDirectory(intoFolder);
        if (Run("cp", NoEnv, "-al", source, intoFolder + "/").Code != 0)
            Assert.Equal(0, Run("cp", NoEnv, "-a", source, intoFolder + "/").Code);
    }

    private static readonly Dictionary<string, string> NoEnv = [];

    private static (int Code, string Output) Run(string file, IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args)
        { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        foreach (var (k, v) in env) psi.Environment[k] = v;
        psi.Environment.Remove("DOTNET_ROLL_FORWARD");
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output + stderr.Result);
    }

    private static string Text(JsonNode? node) => node switch
    {
        JsonArray a => string.Concat(a.Select(t => (string?)t)),
        var v => (string?)v ?? "",
    };
}
