using System.Diagnostics;

namespace Era.Cli.Notebooks;

/// <summary>
/// Builds what the notebooks load. Their first cell is <c>#r "nuget: Era.Notebooks, 1.0.0-local"</c>, the kernel's
/// own way to load a library with its dependencies and kernel extension (notebook 5 adds <c>Era.Torch</c>); this
/// packs <c>lib/Era</c>, <c>lib/Era.Notebooks</c> and <c>lib/Era.Torch</c> into a local NuGet feed (<see cref="FeedDirectory"/>) and registers that feed as the
/// user's NuGet source <see cref="SourceName"/> (the kernel's <c>#i</c> takes only absolute paths, which would tie
/// the committed notebooks to one machine). The version never changes, so the copy NuGet extracted last time is
/// removed from the global packages folder: the next kernel loads the library just built.
/// </summary>
public static class NotebookPackages
{
    public const string Version = "1.0.0-local";
    public const string SourceName = "era-course";
    public static readonly string[] PackageIds = ["Era", "Era.Notebooks", "Era.Torch.Probe", "Era.Torch"];

    /// <summary>
    /// The projects packed, in dependency order (Era.Torch is what notebook 5 loads beside Era.Notebooks; Era.Torch.Probe
    /// is the child process of its convolution probe).
    /// </summary>
    private static readonly string[] Projects = ["lib/Era/Era.csproj", "lib/Era.Notebooks/Era.Notebooks.csproj", "lib/Era.Torch.Probe/Era.Torch.Probe.csproj", "lib/Era.Torch/Era.Torch.csproj"];

    /// <summary>~/.nuget/era-course, or $ERA_NUGET_FEED.</summary>
    public static string FeedDirectory =>
        Environment.GetEnvironmentVariable("ERA_NUGET_FEED") is { Length: > 0 } feed ? Path.GetFullPath(feed)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", SourceName);

    /// <summary>Packs, clears the stale extracted copies and registers the feed; each step is reported to <paramref name="log"/>.</summary>
    public static void Pack(string repositoryRoot, TextWriter log)
    {
        string feed = FeedDirectory;
        Directory.CreateDirectory(feed);
        if (UpToDate(repositoryRoot, feed))
            log.WriteLine($"{string.Join(" and ", PackageIds)} {Version} in {feed} are up to date");
        else
        {
            // ERA_TORCH_CUDA=1 (a GPU Codespace): Era.Torch references TorchSharp-cuda-linux instead of libtorch-cpu-linux-x64.
            string cuda = Environment.GetEnvironmentVariable("ERA_TORCH_CUDA") == "1" ? "true" : "false";
            foreach (var project in Projects)
            {
                log.WriteLine($"packing {project} {Version} into {feed}");
                Dotnet(repositoryRoot, "pack", project, "-c", "Release", "-o", feed, $"-p:PackageVersion={Version}", $"-p:EraTorchCuda={cuda}", "--nologo", "-v", "quiet");
            }
            string packages = GlobalPackagesFolder(repositoryRoot);
            foreach (var id in PackageIds)
            {
                string extracted = Path.Combine(packages, id.ToLowerInvariant(), Version);
                if (Directory.Exists(extracted)) Directory.Delete(extracted, recursive: true);
            }
        }
        // update fails when the source does not exist yet: then add it.
        if (TryDotnet(repositoryRoot, out _, "nuget", "update", "source", SourceName, "--source", feed))
            log.WriteLine($"NuGet source '{SourceName}' → {feed}");
        else
        {
            Dotnet(repositoryRoot, "nuget", "add", "source", feed, "--name", SourceName);
            log.WriteLine($"registered NuGet source '{SourceName}' → {feed} (user NuGet.Config)");
        }
    }

    /// <summary>The feed holds every package, newer than every source file it is built from.</summary>
    public static bool IsCurrent(string repositoryRoot) => UpToDate(repositoryRoot, FeedDirectory);

    /// <summary>Every package exists and is newer than every source file it is built from.</summary>
    private static bool UpToDate(string root, string feed)
    {
        var packed = PackageIds.Select(id => new FileInfo(Path.Combine(feed, $"{id}.{Version}.nupkg"))).ToList();
        if (packed.Any(f => !f.Exists)) return false;
        var oldest = packed.Min(f => f.LastWriteTimeUtc);
        var sources = new[] { "lib/Era", "lib/Era.Notebooks", "lib/Era.Torch.Probe", "lib/Era.Torch" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*", SearchOption.AllDirectories))
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal)
                && !f.Contains("node_modules", StringComparison.Ordinal))
            .Concat(Directory.EnumerateFiles(root, "Directory.*.props"));
        return sources.All(f => File.GetLastWriteTimeUtc(f) < oldest);
    }

    internal static string GlobalPackagesFolder(string cwd)
    {
        Dotnet(cwd, out string output, "nuget", "locals", "global-packages", "--list");
        // "global-packages: /root/.nuget/packages/"
        int colon = output.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? throw new NotebookRunException($"unexpected answer from dotnet nuget locals: {output.Trim()}")
            : output[(colon + 1)..].Trim();
    }

    private static void Dotnet(string cwd, params string[] args) => Dotnet(cwd, out _, args);

    private static void Dotnet(string cwd, out string output, params string[] args)
    {
        if (!TryDotnet(cwd, out output, args))
            throw new NotebookRunException($"dotnet {string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')))} failed: {FirstError(output)}");
    }

    /// <summary>One line of a failed build: its first error (a compiler's "file(line,col): error CS…"), else its last line.</summary>
    private static string FirstError(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string? error = lines.FirstOrDefault(l => l.Contains(": error ", StringComparison.Ordinal));
        int more = lines.Where(l => l.Contains(": error ", StringComparison.Ordinal)).Distinct().Count() - 1;
        return error is not null ? error + (more > 0 ? $" (and {more} more errors)" : "") : lines.LastOrDefault() ?? "no output";
    }

    private static bool TryDotnet(string cwd, out string output, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi) ?? throw new NotebookRunException("could not start dotnet");
        var stderr = p.StandardError.ReadToEndAsync();
        output = p.StandardOutput.ReadToEnd() + stderr.Result;
        p.WaitForExit();
        return p.ExitCode == 0;
    }
}
