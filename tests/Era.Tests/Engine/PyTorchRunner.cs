using System.Diagnostics;

namespace Era.Tests.Engine;

/// <summary>
/// Runs the reference scripts in Reference/ with the system's python3 and PyTorch. Missing python3 or torch is a
/// test failure with the install hint, never a silent skip: these tests are the bridge to the PyTorch anchor.
/// </summary>
internal static class PyTorchRunner
{
    public const string InstallHint = "install PyTorch for python3: apt-get install python3-torch python3-numpy";

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string ReferenceDir => Path.Combine(RepoRoot, "tests", "Era.Tests", "Engine", "Reference");

    /// <summary>Runs Reference/<paramref name="script"/> with the arguments; returns stdout, fails on a non-zero exit.</summary>
    public static string Run(string script, params string[] args)
    {
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(ReferenceDir, script));
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Assert.Fail($"cannot start {python} ({e.Message}); {InstallHint}");
            throw;
        }
        using (process)
        {
            var stderrTask = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(120_000))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"{script} did not finish within 120 s");
            }
            string stderr = stderrTask.Result;
            if (stderr.Contains("No module named 'torch'", StringComparison.Ordinal) || stderr.Contains("No module named 'numpy'", StringComparison.Ordinal))
                Assert.Fail($"{script}: PyTorch or numpy is missing for {python}; {InstallHint}\n{stderr}");
            Assert.True(process.ExitCode == 0, $"{script} {string.Join(' ', args)} failed (exit {process.ExitCode}):\n{stderr}\n{stdout}");
            return stdout;
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Era.sln"))) return dir.FullName;
        throw new InvalidOperationException($"Era.sln not found above {AppContext.BaseDirectory}");
    }
}
