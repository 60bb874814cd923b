using Era.Cli.Setup;
using Era.Tests.Engine;

namespace Era.Tests.Setup;

/// <summary>`./era setup` against a fake machine that changes as the commands run: what it runs, in what order, and
/// that a second run runs nothing.</summary>
public class SetupTests
{
    private static readonly string[] AllApt = Requirements.AptPackages.Select(p => p.Package).ToArray();

    /// <summary>A machine whose state the setup commands change, the way apt-get, npm and dotnet would.</summary>
    private sealed class FakeHost : ISetupHost
    {
        public HashSet<string> Installed = [];
        public HashSet<string> Candidates = [.. AllApt, "npm"];
        public HashSet<string> Commands = ["apt-get", "npm", "dotnet"];
        public bool NpmCurrent, Tools, Packed = true, Kernel = true;
        public bool User { get; init; }
        public List<string> Ran = [];

        public string Root => PyTorchRunner.RepoRoot;
        public bool IsRoot => !User;
        public bool HasCommand(string name) => Commands.Contains(name);
        public IReadOnlySet<string> InstalledAptPackages(IReadOnlyList<string> packages) => packages.Where(Installed.Contains).ToHashSet();
        public IReadOnlySet<string> AptCandidates(IReadOnlyList<string> packages) => packages.Where(Candidates.Contains).ToHashSet();
        public bool NpmPackagesCurrent() => NpmCurrent;
        public bool ToolsRestored() => Tools;
        public bool NotebookPackagesCurrent() => Packed;
        public bool KernelspecInstalled() => Kernel;
        public string InstallKernelspec() { Kernel = true; return "/fake/kernels/.net-csharp"; }

        public int Run(string file, IReadOnlyList<string> args)
        {
            string line = string.Join(" ", [file, .. args]);
            Ran.Add(line);
            var a = file == "sudo" ? args.Skip(1).ToList() : [file, .. args]; // sudo DEBIAN_FRONTEND=… apt-get …
            if (a[0] == "apt-get" && a[1] == "install")
            {
                if (file != "sudo" && User) return 100; // apt-get as a user: "are you root?"
                foreach (var p in a.Skip(2).Where(p => !p.StartsWith('-'))) { Installed.Add(p); if (p == "npm") Commands.Add("npm"); }
            }
            if (a[0] == "npm") NpmCurrent = Commands.Contains("npm");
            if (a[0] == "dotnet") Tools = true;
            if (a[0] == Path.Combine(Root, "era") && a[1] == "notebooks" && a[2] == "pack") Packed = true;
            return 0;
        }
    }

    private static (int Code, string Out, string Err) Install(FakeHost host, bool sudo = false)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Installer.Install(host, sudo, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void AFreshMachineGetsOneUpdateThenOneInstallThenNpmThenTheTool_AndASecondRunDoesNothing()
    {
        var host = new FakeHost { Installed = ["python3-numpy"], Packed = false, Kernel = false };
        var (code, output, err) = Install(host);
        Assert.Equal((0, ""), (code, err));
        var expectedApt = AllApt.Where(p => p != "python3-numpy");
        Assert.Equal(
        [
            "apt-get update -q",
            $"apt-get install -y -q {string.Join(" ", expectedApt)}",
            "npm ci --prefix lib/web --no-audit --no-fund --loglevel=error",
            "dotnet tool restore",
            $"{Path.Combine(host.Root, "era")} notebooks pack",
        ], host.Ran);
        foreach (var ran in host.Ran) Assert.Contains($"== {ran}\n", output, StringComparison.Ordinal); // says what it does
        Assert.Contains("== kernelspec .net-csharp: wrote /fake/kernels/.net-csharp\n", output, StringComparison.Ordinal);
        Assert.True(host.Kernel);
        Assert.Contains("done, everything is installed", output, StringComparison.Ordinal);

        host.Ran.Clear();
        (code, output, err) = Install(host);
        Assert.Equal((0, "", 0), (code, err, host.Ran.Count));
        Assert.Contains("nothing to do", output, StringComparison.Ordinal);
    }

    [Fact]
    public void NpmComesFromAptOnlyWhenThereIsNone()
    {
        var withNpm = new FakeHost();
        Install(withNpm);
        Assert.DoesNotContain(withNpm.Ran, r => r.StartsWith("apt-get install", StringComparison.Ordinal) && r.Split(' ').Contains("npm"));

        var withoutNpm = new FakeHost { Commands = ["apt-get", "dotnet"] };
        var (code, _, err) = Install(withoutNpm);
        Assert.Equal((0, ""), (code, err));
        Assert.Contains(withoutNpm.Ran, r => r.StartsWith("apt-get install", StringComparison.Ordinal) && r.Split(' ').Contains("npm"));
        Assert.True(withoutNpm.Ran.IndexOf(withoutNpm.Ran.First(r => r.StartsWith("npm ci", StringComparison.Ordinal)))
                    > withoutNpm.Ran.FindIndex(r => r.StartsWith("apt-get install", StringComparison.Ordinal)));
    }

    [Fact]
    public void AsAUserItPrintsTheSudoCommandAndStillDoesTheRest()
    {
        var host = new FakeHost { User = true, Installed = [.. AllApt.Where(p => p != "chromium")] };
        var (code, _, err) = Install(host);
        Assert.Equal(1, code);
        Assert.Contains("sudo apt-get update && sudo apt-get install -y chromium", err, StringComparison.Ordinal);
        Assert.Contains("still missing: apt chromium", err, StringComparison.Ordinal);
        Assert.DoesNotContain(host.Ran, r => r.Contains("apt-get", StringComparison.Ordinal));
        Assert.Contains("npm ci --prefix lib/web --no-audit --no-fund --loglevel=error", host.Ran);
        Assert.Contains("dotnet tool restore", host.Ran);
    }

    [Fact]
    public void WithSudoAUserRunsAptThroughSudo()
    {
        var host = new FakeHost { User = true, NpmCurrent = true, Tools = true };
        var (code, _, err) = Install(host, sudo: true);
        Assert.Equal((0, ""), (code, err));
        Assert.Equal(
        [
            "sudo DEBIAN_FRONTEND=noninteractive apt-get update -q",
            $"sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q {string.Join(" ", AllApt)}",
        ], host.Ran);
    }

    [Fact]
    public void APackageAptDoesNotHaveIsNamedWithWhatToDoAndTheOthersAreInstalled()
    {
        // Ubuntu noble: chromium is a snap, apt has no candidate.
        var host = new FakeHost { Candidates = [.. AllApt.Where(p => p != "chromium")], NpmCurrent = true, Tools = true };
        var (code, _, err) = Install(host);
        Assert.Equal(1, code);
        Assert.Contains("apt has no package 'chromium' on this system: Ubuntu ships Chromium only as a snap", err, StringComparison.Ordinal);
        Assert.Contains("ERA_CHROMIUM", err, StringComparison.Ordinal);
        Assert.Equal($"apt-get install -y -q {string.Join(" ", AllApt.Where(p => p != "chromium"))}", host.Ran[^1]);
    }

    [Fact]
    public void CheckListsWhatIsMissingAndRunsNothing()
    {
        var host = new FakeHost { Installed = [.. AllApt.Where(p => p != "python3-torch")], Tools = true };
        var o = new StringWriter();
        Assert.Equal(1, Installer.Check(host, o));
        Assert.Empty(host.Ran);
        var lines = o.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("missing: apt python3-torch (", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("missing: npm lib/web (", lines[1], StringComparison.Ordinal);

        var noKernel = new FakeHost { Installed = [.. AllApt], NpmCurrent = true, Tools = true, Kernel = false };
        o = new StringWriter();
        Assert.Equal(1, Installer.Check(noKernel, o));
        Assert.StartsWith("missing: kernelspec .net-csharp (the notebook kernel for Jupyter and VS Code", o.ToString(), StringComparison.Ordinal);
        Assert.False(noKernel.Kernel); // --check installs nothing

        var complete = new FakeHost { Installed = [.. AllApt], NpmCurrent = true, Tools = true };
        o = new StringWriter();
        Assert.Equal(0, Installer.Check(complete, o));
        Assert.Equal("era setup: everything is installed\n", o.ToString());
    }

    [Fact]
    public void TheToolManifestPinsTheNotebookKernel()
    {
        Assert.Equal([("microsoft.dotnet-interactive", "1.0.712001")], SystemSetupHost.PinnedTools(PyTorchRunner.RepoRoot));
        var host = new FakeHost { Installed = [.. AllApt], NpmCurrent = true };
        var o = new StringWriter();
        Assert.Equal(1, Installer.Check(host, o));
        Assert.StartsWith("missing: dotnet-tool microsoft.dotnet-interactive 1.0.712001 (", o.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheCheckOfThisMachineAgreesWithDpkg()
    {
        // The real probes: every package dpkg-query calls installed is not listed missing, and the reverse.
        if (!File.Exists("/usr/bin/dpkg-query")) return; // not Debian/Ubuntu: nothing to compare with
        var host = new SystemSetupHost(PyTorchRunner.RepoRoot);
        var installed = host.InstalledAptPackages(AllApt);
        var missing = Installer.FindMissing(host).Where(m => m.Kind == "apt").Select(m => m.Name).ToHashSet();
        foreach (var p in AllApt)
        {
            using var dpkg = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dpkg", ["-s", p])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string status = dpkg.StandardOutput.ReadToEnd();
            dpkg.WaitForExit();
            bool really = status.Contains("Status: install ok installed", StringComparison.Ordinal);
            Assert.Equal(really, installed.Contains(p));
            Assert.Equal(!really, missing.Contains(p));
        }
    }

    [Fact]
    public void TheReadmeCiAndDevContainerUseSetupAndNameTheSamePackages()
    {
        string root = PyTorchRunner.RepoRoot;
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        string ci = File.ReadAllText(Path.Combine(root, ".ci", "run"));
        string devcontainer = File.ReadAllText(Path.Combine(root, ".devcontainer", "devcontainer.json"));
        Assert.Contains("./era setup && ./era handouts --out handouts", readme, StringComparison.Ordinal);
        foreach (var (package, _) in Requirements.AptPackages) Assert.Contains(package, readme, StringComparison.Ordinal);
        Assert.Contains("./era setup", ci, StringComparison.Ordinal);
        Assert.Contains("dotnet test Era.sln -c Release", ci, StringComparison.Ordinal); // the README's test command
        Assert.Contains("dotnet test Era.sln -c Release\n", readme, StringComparison.Ordinal);
        Assert.DoesNotContain("apt-get", ci, StringComparison.Ordinal); // the list lives in one place
        Assert.Contains("./era setup", devcontainer, StringComparison.Ordinal);
        Assert.DoesNotContain("apt-get", devcontainer, StringComparison.Ordinal);
    }
}
