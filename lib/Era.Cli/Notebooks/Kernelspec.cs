using System.Text.Json;
using System.Text.Json.Nodes;
using Era.IO;

namespace Era.Cli.Notebooks;

/// <summary>
/// The Jupyter kernel the course's notebooks name, in one place: `./era setup` installs it as the user's kernelspec
/// (found by JupyterLab, Jupyter Notebook, `jupyter kernelspec list` and VS Code's Jupyter extension), and the
/// notebook runner starts its kernels through that same installed kernelspec. It starts the dotnet-interactive tool
/// pinned in dotnet-tools.json (from the notebook's folder, where Jupyter starts kernels) with
/// <c>--http-local-only</c> (without it the kernel's HTTP API listens on every interface), and lets it roll forward
/// to a newer .NET (the tool targets .NET 10; where only .NET 11 is installed it would otherwise exit 150).
/// </summary>
public static class Kernelspec
{
    /// <summary>The name `dotnet interactive jupyter install` uses, which the notebooks' metadata and Polyglot
    /// Notebooks (a kernelspec name starting ".net-") recognise.</summary>
    public const string Name = ".net-csharp";
    public const string DisplayName = ".NET (C#)";
    public const string Language = "C#";

    /// <summary>The kernel.json written into <see cref="Folder"/>.</summary>
    public static JsonObject Spec() => new()
    {
        ["argv"] = new JsonArray("dotnet", "tool", "run", "dotnet-interactive", "--", "jupyter", "--http-local-only",
            "--default-kernel", "csharp", "{connection_file}"),
        ["display_name"] = DisplayName,
        ["language"] = Language,
        ["env"] = new JsonObject
        {
            // Major: on the .NET 10 runtime when there is one, else on the lowest newer major (.NET 11).
            ["DOTNET_ROLL_FORWARD"] = "Major",
            ["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        },
    };

    /// <summary>The notebook-level metadata that names this kernel: <c>kernelspec</c> (Jupyter and VS Code's Jupyter
    /// extension pick the kernel by its name; Polyglot Notebooks by the ".net-" prefix) and <c>language_info</c>,
    /// whose name VS Code's notebook deserializer turns into every code cell's language ("C#" → csharp).</summary>
    public static JsonObject NotebookMetadata() => new()
    {
        ["kernelspec"] = new JsonObject { ["display_name"] = DisplayName, ["language"] = Language, ["name"] = Name },
        ["language_info"] = new JsonObject
        {
            ["file_extension"] = ".cs",
            ["mimetype"] = "text/x-csharp",
            ["name"] = Language,
            ["pygments_lexer"] = "csharp",
        },
    };

    /// <summary>Jupyter's per-user data folder, as jupyter_core computes it: $JUPYTER_DATA_DIR, else
    /// $XDG_DATA_HOME/jupyter or ~/.local/share/jupyter (Linux), ~/Library/Jupyter (macOS), %APPDATA%\jupyter (Windows).</summary>
    public static string UserDataDirectory()
    {
        if (Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR") is { Length: > 0 } data) return Path.GetFullPath(data);
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "jupyter");
        if (OperatingSystem.IsMacOS()) return Path.Combine(home, "Library", "Jupyter");
        return Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
            ? Path.Combine(xdg, "jupyter") : Path.Combine(home, ".local", "share", "jupyter");
    }

    /// <summary>The kernelspec's folder under a Jupyter data folder (default: the user's).</summary>
    public static string Folder(string? dataDirectory = null) => Path.Combine(dataDirectory ?? UserDataDirectory(), "kernels", Name);

    /// <summary>The folder holds exactly this kernel.json (another one, e.g. `dotnet interactive jupyter install`'s
    /// without --http-local-only, is not ours and gets replaced).</summary>
    public static bool IsInstalled(string? dataDirectory = null)
    {
        string file = Path.Combine(Folder(dataDirectory), "kernel.json");
        if (!File.Exists(file)) return false;
        try
        {
            return JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(file)), Spec());
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Writes kernel.json (atomically, creating the folders); returns the folder.</summary>
    public static string Install(string? dataDirectory = null)
    {
        string folder = Folder(dataDirectory);
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "kernel.json"), Spec().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return folder;
    }

    /// <summary>Removes the kernelspec's folder; false when there was none.</summary>
    public static bool Remove(string? dataDirectory = null)
    {
        string folder = Folder(dataDirectory);
        if (!Directory.Exists(folder)) return false;
        Directory.Delete(folder, recursive: true);
        return true;
    }
}
