using System.Diagnostics;
using System.Text.Json;

namespace Era.Cli.Setup;

/// <summary>What `./era setup` asks of the machine; the tests pass a fake one.</summary>
public interface ISetupHost
{
    /// <summary>The repository root (holds dotnet-tools.json and lib/web).</summary>
    string Root { get; }
    bool IsRoot { get; }
    /// <summary>An executable of this name on PATH.</summary>
    bool HasCommand(string name);
    /// <summary>Which of these Debian packages are installed (dpkg-query).</summary>
    IReadOnlySet<string> InstalledAptPackages(IReadOnlyList<string> packages);
    /// <summary>Which of these packages apt can install now (apt-cache policy: a candidate version).</summary>
    IReadOnlySet<string> AptCandidates(IReadOnlyList<string> packages);
    /// <summary>lib/web/node_modules holds every package of the lock file at the locked version.</summary>
    bool NpmPackagesCurrent();
    /// <summary>Every tool of dotnet-tools.json is in the NuGet package cache at the pinned version.</summary>
    bool ToolsRestored();
    /// <summary>The local NuGet feed holds the course library the notebooks load, built from the current sources.</summary>
    bool NotebookPackagesCurrent();
    /// <summary>The user's Jupyter kernelspec <see cref="Notebooks.Kernelspec.Name"/> is the course's.</summary>
    bool KernelspecInstalled();
    /// <summary>Writes the course's kernelspec into the user's Jupyter data folder; returns its folder.</summary>
    string InstallKernelspec();
    /// <summary>Runs a program in the repository root with the console's own output; returns its exit code.</summary>
    int Run(string file, IReadOnlyList<string> args);
}

/// <summary>The real machine.</summary>
public sealed class SystemSetupHost(string root) : ISetupHost
{
    public string Root { get; } = root;

    public bool IsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    public bool HasCommand(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, name)));

    public IReadOnlySet<string> InstalledAptPackages(IReadOnlyList<string> packages)
    {
        // One line per known package: "name<TAB>install ok installed"; unknown ones only complain on stderr.
        var (_, text) = Capture("dpkg-query", ["-W", "-f=${Package}\t${Status}\n", .. packages]);
        return Lines(text).Select(l => l.Split('\t')).Where(p => p.Length == 2 && p[1].EndsWith("ok installed", StringComparison.Ordinal))
            .Select(p => p[0]).ToHashSet();
    }

    public IReadOnlySet<string> AptCandidates(IReadOnlyList<string> packages)
    {
        // "name:\n  Installed: …\n  Candidate: 1.2-3\n …"; a package apt cannot install has "Candidate: (none)" or no block.
        var (_, text) = Capture("apt-cache", ["policy", .. packages]);
        var found = new HashSet<string>();
        string? current = null;
        foreach (var line in Lines(text))
        {
            if (!line.StartsWith(' ') && line.EndsWith(':')) current = line[..^1];
            else if (current is not null && line.Trim() is var t && t.StartsWith("Candidate:", StringComparison.Ordinal)
                     && t != "Candidate: (none)")
                found.Add(current);
        }
        return found;
    }

    public bool NpmPackagesCurrent()
    {
        string locked = Path.Combine(Root, Requirements.WebFolder, "package-lock.json");
        string installed = Path.Combine(Root, Requirements.WebFolder, "node_modules", ".package-lock.json");
        if (!File.Exists(installed)) return false;
        var want = LockedVersions(locked);
        var have = LockedVersions(installed);
        return want.All(p => have.TryGetValue(p.Key, out var v) && v == p.Value
                             && Directory.Exists(Path.Combine(Root, Requirements.WebFolder, p.Key)));
    }

    public bool ToolsRestored()
    {
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return PinnedTools(Root).All(t => Directory.Exists(Path.Combine(cache, t.Id.ToLowerInvariant(), t.Version.ToLowerInvariant())));
    }

    public bool NotebookPackagesCurrent() => Notebooks.NotebookPackages.IsCurrent(Root);

    public bool KernelspecInstalled() => Notebooks.Kernelspec.IsInstalled();

    public string InstallKernelspec() => Notebooks.Kernelspec.Install();

    public int Run(string file, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = Root, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>The tools a manifest pins: (package id, version).</summary>
    public static IReadOnlyList<(string Id, string Version)> PinnedTools(string root)
    {
        string path = Path.Combine(root, Requirements.ToolManifest);
        if (!File.Exists(path)) return [];
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("tools").EnumerateObject()
            .Select(t => (t.Name, t.Value.GetProperty("version").GetString() ?? "")).ToList();
    }

    private static Dictionary<string, string> LockedVersions(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("packages").EnumerateObject()
            .Where(p => p.Name.Length > 0 && p.Value.TryGetProperty("version", out _))
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("version").GetString() ?? "");
    }

    private static (int Code, string Out) Capture(string file, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string text = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            _ = stderr.Result;
            return (process.ExitCode, text);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (-1, ""); // not a Debian/Ubuntu machine: nothing is known installed, nothing installable
        }
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The repository root: $ERA_ROOT (set by ./era), else the first folder above the CLI or the current
    /// directory that holds Era.sln.</summary>
    public static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("ERA_ROOT") is { Length: > 0 } env && Directory.Exists(env)) return env;
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Era.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
