using System.Text.Json;
using Era.Tests.Engine;

namespace Era.Tests.Setup;

/// <summary>.devcontainer/devcontainer.json: JSON with comments whose every key is a devcontainer.json key.</summary>
public class DevContainerTests
{
    /// <summary>The top-level keys of the devcontainer.json reference (containers.dev/implementors/json_reference).</summary>
    private static readonly HashSet<string> TopLevel =
    [
        "name", "image", "build", "dockerFile", "context", "dockerComposeFile", "service", "runServices", "workspaceFolder",
        "workspaceMount", "mounts", "features", "overrideFeatureInstallOrder", "forwardPorts", "portsAttributes",
        "otherPortsAttributes", "appPort", "containerEnv", "remoteEnv", "containerUser", "remoteUser", "updateRemoteUserUID",
        "userEnvProbe", "overrideCommand", "shutdownAction", "init", "privileged", "capAdd", "securityOpt", "runArgs",
        "initializeCommand", "onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand",
        "postAttachCommand", "waitFor", "hostRequirements", "customizations",
    ];

    private static readonly HashSet<string> HostRequirements = ["cpus", "memory", "storage", "gpu"];
    private static readonly HashSet<string> VsCode = ["extensions", "settings"];

    private static readonly JsonDocumentOptions WithComments = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static string Path_ => Path.Combine(PyTorchRunner.RepoRoot, ".devcontainer", "devcontainer.json");

    /// <summary>Every key that is not a devcontainer.json key, as "path.key".</summary>
    private static List<string> UnknownKeys(JsonElement root)
    {
        var unknown = root.EnumerateObject().Where(p => !TopLevel.Contains(p.Name)).Select(p => p.Name).ToList();
        if (root.TryGetProperty("hostRequirements", out var host))
        {
            unknown.AddRange(host.EnumerateObject().Where(p => !HostRequirements.Contains(p.Name)).Select(p => $"hostRequirements.{p.Name}"));
            if (host.TryGetProperty("gpu", out var gpu) && !(gpu.ValueKind is JsonValueKind.True or JsonValueKind.False
                    || gpu.ValueKind == JsonValueKind.String && gpu.GetString() == "optional" || gpu.ValueKind == JsonValueKind.Object))
                unknown.Add($"hostRequirements.gpu={gpu}");
        }
        if (root.TryGetProperty("customizations", out var custom) && custom.TryGetProperty("vscode", out var vscode))
            unknown.AddRange(vscode.EnumerateObject().Where(p => !VsCode.Contains(p.Name)).Select(p => $"customizations.vscode.{p.Name}"));
        return unknown;
    }

    [Fact]
    public void TheFileParsesWithCommentsAndUsesOnlyKnownKeys()
    {
        string text = File.ReadAllText(Path_);
        Assert.Contains("//", text, StringComparison.Ordinal); // it does rely on comments being allowed
        using var doc = JsonDocument.Parse(text, WithComments);
        Assert.Empty(UnknownKeys(doc.RootElement));
    }

    [Fact]
    public void AMisspeltKeyIsFound()
    {
        using var doc = JsonDocument.Parse("""
            { "image": "x", "postCreateCommands": "y", "hostRequirements": { "gpu": "maybe", "ram": "8gb" },
              "customizations": { "vscode": { "extension": [] } } }
            """, WithComments);
        Assert.Equal(["postCreateCommands", "hostRequirements.ram", "hostRequirements.gpu=maybe", "customizations.vscode.extension"],
            UnknownKeys(doc.RootElement));
    }

    [Fact]
    public void ItIsADotNet10NobleImageThatRunsSetupWithTheNotebookExtensionsAndAnOptionalGpu()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path_), WithComments);
        var root = doc.RootElement;
        Assert.Matches(@"^mcr\.microsoft\.com/devcontainers/dotnet:\d+-10\.0-noble$", root.GetProperty("image").GetString());
        Assert.Equal("./era setup --sudo", root.GetProperty("postCreateCommand").GetString());
        Assert.Equal("optional", root.GetProperty("hostRequirements").GetProperty("gpu").GetString());
        var extensions = root.GetProperty("customizations").GetProperty("vscode").GetProperty("extensions")
            .EnumerateArray().Select(e => e.GetString()).ToList();
        // VS Code's Jupyter extension and C# Dev Kit; not the retired Polyglot Notebooks (2026-03-27). The post-create
        // `./era setup` installs the kernelspec the Jupyter extension starts (SetupTests, KernelspecTests).
        Assert.Equal(["ms-toolsai.jupyter", "ms-dotnettools.csdevkit"], extensions);
    }
}
