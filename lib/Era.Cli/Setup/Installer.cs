namespace Era.Cli.Setup;

/// <summary>
/// `./era setup`: finds what is missing (apt packages, npm packages, the pinned dotnet tool, the notebooks' library in
/// the local NuGet feed, the user's Jupyter kernelspec), installs only that, and
/// says each command before it runs it. Run twice, the second run finds nothing to do.
/// </summary>
public static class Installer
{
    /// <summary>Why apt may have no package of that name, and what to do instead.</summary>
    private static readonly Dictionary<string, string> NoCandidateHints = new()
    {
        ["chromium"] = "Ubuntu ships Chromium only as a snap, which does not run in containers: install Google Chrome or "
                       + "Chromium another way and set ERA_CHROMIUM to its path",
    };

    /// <summary>One thing that is not there yet.</summary>
    public sealed record Missing(string Kind, string Name, string Why)
    {
        public override string ToString() => $"{Kind} {Name} ({Why})";
    }

    /// <summary>Everything missing on this machine, apt packages first (npm may come from apt).</summary>
    public static List<Missing> FindMissing(ISetupHost host)
    {
        var missing = new List<Missing>();
        var apt = Requirements.AptPackages.Select(p => p.Package).ToList();
        var installed = host.InstalledAptPackages(apt);
        missing.AddRange(Requirements.AptPackages.Where(p => !installed.Contains(p.Package)).Select(p => new Missing("apt", p.Package, p.Why)));
        if (!host.HasCommand("npm"))
            missing.Add(new Missing("apt", Requirements.NpmAptPackage, "installs plotly.js from lib/web/package-lock.json"));
        if (File.Exists(Path.Combine(host.Root, Requirements.WebFolder, "package-lock.json")) && !host.NpmPackagesCurrent())
            missing.Add(new Missing("npm", Requirements.WebFolder, "plotly.js for figures, pinned by package-lock.json"));
        var tools = SystemSetupHost.PinnedTools(host.Root);
        if (tools.Count > 0 && !host.ToolsRestored())
            missing.Add(new Missing("dotnet-tool", string.Join(", ", tools.Select(t => $"{t.Id} {t.Version}")), "the notebook kernel, pinned by dotnet-tools.json"));
        if (!host.KernelspecInstalled())
            missing.Add(new Missing("kernelspec", Notebooks.Kernelspec.Name, "the notebook kernel for Jupyter and VS Code: --http-local-only, rolls forward to a newer .NET"));
        if (!host.NotebookPackagesCurrent())
            missing.Add(new Missing("nuget-feed", $"Era.Notebooks {Notebooks.NotebookPackages.Version}", "the library the notebooks load, packed by `./era notebooks pack`"));
        return missing;
    }

    /// <summary>--check: lists what is missing, installs nothing. Exit 0 when nothing is, 1 otherwise.</summary>
    public static int Check(ISetupHost host, TextWriter output)
    {
        var missing = FindMissing(host);
        foreach (var m in missing) output.WriteLine($"missing: {m}");
        output.WriteLine(missing.Count == 0 ? "era setup: everything is installed" : $"era setup: {missing.Count} missing; `./era setup` installs them");
        return missing.Count == 0 ? Cli.ExitOk : Cli.ExitFindings;
    }

    /// <summary>Installs what is missing. <paramref name="sudo"/>: not root, run apt-get through sudo.
    /// Exit 0 when everything is installed at the end, 1 otherwise (each leftover named on stderr).</summary>
    public static int Install(ISetupHost host, bool sudo, TextWriter output, TextWriter error)
    {
        var missing = FindMissing(host);
        if (missing.Count == 0)
        {
            output.WriteLine("era setup: everything is installed, nothing to do");
            return Cli.ExitOk;
        }
        var apt = missing.Where(m => m.Kind == "apt").Select(m => m.Name).ToList();
        if (apt.Count > 0) InstallApt(host, apt, sudo, output, error);
        if (missing.Any(m => m.Kind == "npm"))
        {
            if (!host.HasCommand("npm")) error.WriteLine("era setup: npm is not installed, so lib/web's packages cannot be: install Node.js with npm");
            else Step(host, output, error, "npm", ["ci", "--prefix", Requirements.WebFolder, "--no-audit", "--no-fund", "--loglevel=error"]);
        }
        if (missing.Any(m => m.Kind == "dotnet-tool"))
            Step(host, output, error, "dotnet", ["tool", "restore"]);
        if (missing.Any(m => m.Kind == "kernelspec"))
            output.WriteLine($"== kernelspec {Notebooks.Kernelspec.Name}: wrote {host.InstallKernelspec()}");
        if (missing.Any(m => m.Kind == "nuget-feed"))
            Step(host, output, error, Path.Combine(host.Root, "era"), ["notebooks", "pack"]);

        var left = FindMissing(host);
        foreach (var m in left) error.WriteLine($"era setup: still missing: {m}");
        output.WriteLine(left.Count == 0 ? "era setup: done, everything is installed" : $"era setup: {left.Count} still missing (see above)");
        return left.Count == 0 ? Cli.ExitOk : Cli.ExitFindings;
    }

    private static void InstallApt(ISetupHost host, List<string> packages, bool sudo, TextWriter output, TextWriter error)
    {
        if (!host.HasCommand("apt-get"))
        {
            error.WriteLine($"era setup: no apt-get (not Debian/Ubuntu): install these yourself: {string.Join(" ", packages)}");
            return;
        }
        if (!host.IsRoot && !sudo)
        {
            error.WriteLine("era setup: apt packages need root; run (or `./era setup --sudo`):");
            error.WriteLine($"  sudo apt-get update && sudo apt-get install -y {string.Join(" ", packages)}");
            return;
        }
        string[] prefix = host.IsRoot ? [] : ["sudo", "DEBIAN_FRONTEND=noninteractive"];
        if (!Step(host, output, error, prefix, ["apt-get", "update", "-q"])) return;
        var installable = host.AptCandidates(packages);
        foreach (var p in packages.Where(p => !installable.Contains(p)))
            error.WriteLine($"era setup: apt has no package '{p}' on this system"
                            + (NoCandidateHints.TryGetValue(p, out var hint) ? $": {hint}" : ""));
        var go = packages.Where(installable.Contains).ToList();
        if (go.Count > 0) Step(host, output, error, prefix, ["apt-get", "install", "-y", "-q", .. go]);
    }

    private static bool Step(ISetupHost host, TextWriter output, TextWriter error, string file, string[] args) =>
        Step(host, output, error, [], [file, .. args]);

    /// <summary>Says the command, runs it, names it on failure.</summary>
    private static bool Step(ISetupHost host, TextWriter output, TextWriter error, string[] prefix, string[] command)
    {
        string[] all = [.. prefix, .. command];
        output.WriteLine($"== {string.Join(" ", all)}");
        output.Flush();
        int code = host.Run(all[0], all[1..]);
        if (code != 0) error.WriteLine($"era setup: `{string.Join(" ", all)}` failed (exit {code})");
        return code == 0;
    }
}
