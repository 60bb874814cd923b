using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Era.IO;

namespace Era.Cli.Notebooks;

/// <summary>What <see cref="NotebookRunner.Run"/> does: which notebooks, where the executed copies go, how long a cell may take.</summary>
public sealed record NotebookRunOptions
{
    public required IReadOnlyList<string> Notebooks { get; init; }

    /// <summary>Sets ERA_QUICK=1 for the kernel: the notebooks make their long cells short (a few batches, a subset).</summary>
    public bool Quick { get; init; }

    /// <summary>Write executed notebooks here (same file names); null with <see cref="InPlace"/> overwrites the inputs.</summary>
    public string? OutputDirectory { get; init; }
    public bool InPlace { get; init; }
    public TimeSpan CellTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The Python with nbclient and jupyter_client (Debian: python3-nbclient); $ERA_PYTHON overrides.</summary>
    public string Python { get; init; } = Environment.GetEnvironmentVariable("ERA_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    /// <summary>Variables set for the driver and so for the kernels it starts (a test points DOTNET_ROOT and PATH at
    /// another .NET here).</summary>
    public IReadOnlyDictionary<string, string> KernelEnvironment { get; init; } = new Dictionary<string, string>();
}

/// <summary>One notebook's run: where it was written, or which cell failed and why.</summary>
public sealed record NotebookRunResult(string Notebook, bool Ok, string? OutputPath, int? FailedCell, string? Message, TimeSpan Elapsed);

/// <summary>A notebook run that could not start (no kernel tool, no nbclient, unreadable notebook).</summary>
public sealed class NotebookRunException(string message) : Exception(message);

/// <summary>
/// Runs notebooks the way a reader does: on the .NET Interactive kernel that VS Code and Jupyter launch (the
/// dotnet-interactive tool pinned in dotnet-tools.json, started through the user's kernelspec <see cref="Kernelspec"/>,
/// installed here when missing), driven through Jupyter's protocol by nbclient
/// (run_notebook.py, beside this file). Each notebook gets its own kernel process (formatters are process-wide),
/// runs cell by cell and stops at the first failing cell; a cell over <see cref="NotebookRunOptions.CellTimeout"/>
/// is interrupted. The executed notebook, with its outputs as Jupyter mime bundles and execution counts, is written
/// atomically and only when every cell succeeded: a failure leaves the file as it was. On SIGHUP, SIGTERM or SIGINT
/// the kernel and the temporary files go first (the driver kills the kernel when its stdin closes, era's death
/// included), then era ends by the signal.
/// </summary>
public static class NotebookRunner
{
    private static readonly Lock Gate = new();
    private static readonly List<Process> Drivers = [];

    public static IReadOnlyList<NotebookRunResult> Run(NotebookRunOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Notebooks.Count == 0) throw new NotebookRunException("no notebooks to run");
        if (options.OutputDirectory is null && !options.InPlace)
            throw new NotebookRunException("say where executed notebooks go: an output folder, or in place");
        foreach (var nb in options.Notebooks)
            if (!File.Exists(nb)) throw new NotebookRunException($"{nb}: no such notebook");
        if (!File.Exists(options.Python))
            throw new NotebookRunException($"{options.Python} not found: install Jupyter's client (apt-get install python3-nbclient jupyter-client) or set ERA_PYTHON");
        CheckTargets(options);

        string root = RepositoryRoot(Path.GetDirectoryName(Path.GetFullPath(options.Notebooks[0]))!);
        NotebookPackages.Pack(root, log);
        RestoreKernelTool(root, log);
        if (!Kernelspec.IsInstalled()) log.WriteLine($"kernel: installed the kernelspec {Kernelspec.Name} in {Kernelspec.Install()}");

        string work = Directory.CreateTempSubdirectory("era-notebooks-").FullName;
        var signals = new[] { PosixSignal.SIGHUP, PosixSignal.SIGTERM, PosixSignal.SIGINT }
            .Select(signal => PosixSignalRegistration.Create(signal, context => StopDrivers(work, context))).ToList();
        try
        {
            string driver = Path.Combine(work, "run_notebook.py");
            using (var s = typeof(NotebookRunner).Assembly.GetManifestResourceStream("Era.Cli.Notebooks.run_notebook.py")
                ?? throw new InvalidOperationException("run_notebook.py is not embedded in Era.Cli.dll"))
            using (var f = File.Create(driver)) s.CopyTo(f);
            return options.Notebooks.Select(nb => RunOne(nb, options, driver, work, log)).ToList();
        }
        finally
        {
            signals.ForEach(r => r.Dispose());
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>A signal: each driver's stdin is closed, so it ends its kernel and exits; then the temporary folder
    /// goes, and era exits as a shell reports a process the signal ended (128 + its number).</summary>
    private static void StopDrivers(string work, PosixSignalContext context)
    {
        lock (Gate)
        {
            Stopping = true;
            foreach (var driver in Drivers)
            {
                try { driver.StandardInput.Close(); } catch (IOException) { }
                driver.WaitForExit(TimeSpan.FromSeconds(30));
            }
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
            context.Cancel = true;
            // Inside the lock: the run's own thread, which waits for it, never reports the stopped driver as a failure.
            Environment.Exit(128 + context.Signal switch { PosixSignal.SIGHUP => 1, PosixSignal.SIGINT => 2, _ => 15 });
        }
    }

    private static bool Stopping { get; set; }

    /// <summary>Before the packing and the kernels: every executed notebook can be written where it goes.</summary>
    private static void CheckTargets(NotebookRunOptions options)
    {
        string? dir = options.OutputDirectory is null ? null : Path.GetFullPath(options.OutputDirectory);
        if (dir is not null && File.Exists(dir)) throw new NotebookRunException($"--out: '{options.OutputDirectory}' is a file, not a folder");
        try
        {
            if (dir is not null) Directory.CreateDirectory(dir);
            foreach (var nb in options.Notebooks)
                AtomicFile.Check(options.InPlace ? nb : Path.Combine(dir!, Path.GetFileName(nb)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NotebookRunException($"{(options.InPlace ? "--in-place" : "--out")}: {e.Message}");
        }
    }

    private static NotebookRunResult RunOne(string notebook, NotebookRunOptions options, string driver, string work, TextWriter log)
    {
        string name = Path.GetFileName(notebook);
        string target = options.InPlace ? Path.GetFullPath(notebook) : Path.Combine(Path.GetFullPath(options.OutputDirectory!), name);
        string executed = Path.Combine(work, name), result = Path.Combine(work, name + ".result.json"), kernelLog = Path.Combine(work, name + ".kernel.log");
        int cells = CodeCells(notebook);
        log.WriteLine($"{name}: running {cells} code cells{(options.Quick ? " (quick)" : "")}…");

        var psi = new ProcessStartInfo(options.Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { driver, Path.GetFullPath(notebook), executed, result, "--cwd", Path.GetDirectoryName(Path.GetFullPath(notebook))!,
                     "--timeout", ((int)Math.Ceiling(options.CellTimeout.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--kernel-log", kernelLog, "--kernel-name", Kernelspec.Name, "--kernel-dir", Kernelspec.Folder(),
                     "--metadata", Kernelspec.NotebookMetadata().ToJsonString(), "--watch-stdin" })
            psi.ArgumentList.Add(a);
        psi.Environment["ERA_QUICK"] = options.Quick ? "1" : "0";
        psi.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in options.KernelEnvironment) psi.Environment[key] = value;

        var clock = Stopwatch.StartNew();
        using var p = StartDriver(psi, options.Python);
        try
        {
            return Wait(p, name, cells, target, executed, result, kernelLog, options, clock, log);
        }
        finally
        {
            lock (Gate) Drivers.Remove(p);
        }
    }

    private static Process StartDriver(ProcessStartInfo psi, string python)
    {
        lock (Gate)
        {
            if (Stopping) throw new NotebookRunException("stopped by a signal");
            var p = Process.Start(psi) ?? throw new NotebookRunException($"could not start {python}");
            Drivers.Add(p);
            return p;
        }
    }

    private static NotebookRunResult Wait(Process p, string name, int cells, string target, string executed, string result, string kernelLog,
        NotebookRunOptions options, Stopwatch clock, TextWriter log)
    {
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        // Every cell has its own timeout inside; this bounds a kernel that never starts or a driver that hangs.
        var limit = options.CellTimeout * Math.Max(1, cells) + TimeSpan.FromMinutes(5);
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            return Fail(name, null, $"did not finish within {limit.TotalMinutes:F0} min (stopped)", clock.Elapsed, log);
        }
        p.WaitForExit();
        if (Stopping) lock (Gate) throw new NotebookRunException("stopped by a signal");   // the handler ends era
        if (p.ExitCode != 0 || !File.Exists(result))
        {
            string tail = string.Join(" | ", File.Exists(kernelLog) ? File.ReadLines(kernelLog).Where(l => l.Contains("rror", StringComparison.Ordinal)).TakeLast(3) : []);
            return Fail(name, null, $"the kernel could not run it: {(stderr.Result + stdout.Result).Trim()}{(tail.Length > 0 ? " (kernel: " + tail + ")" : "")}", clock.Elapsed, log);
        }
        using var doc = JsonDocument.Parse(File.ReadAllText(result));
        var r = doc.RootElement;
        if (!r.GetProperty("ok").GetBoolean())
            return Fail(name, r.GetProperty("cell").GetInt32(), r.GetProperty("message").GetString(), clock.Elapsed, log);
        if (r.TryGetProperty("cut", out var cut))
            foreach (var c in cut.EnumerateArray())
                log.WriteLine($"{name}: cell {c.GetInt32()} printed more than the runner keeps; its output is cut, and the notebook says so");
        AtomicFile.WriteAllBytes(target, File.ReadAllBytes(executed));
        log.WriteLine($"{name}: ok in {clock.Elapsed.TotalSeconds:F1} s → {target}");
        return new NotebookRunResult(name, true, target, null, null, clock.Elapsed);
    }

    private static NotebookRunResult Fail(string name, int? cell, string? message, TimeSpan elapsed, TextWriter log)
    {
        var r = new NotebookRunResult(name, false, null, cell, message, elapsed);
        log.WriteLine(Describe(r));
        return r;
    }

    /// <summary>"02-backprop-table.ipynb: cell 7 failed: Error: (1,1): error CS0103: …" — one line.</summary>
    public static string Describe(NotebookRunResult r) =>
        r.Ok ? $"{r.Notebook}: ok" : $"{r.Notebook}: {(r.FailedCell is int c ? $"cell {c} failed: " : "")}{r.Message}";

    private static int CodeCells(string notebook)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(notebook));
            return doc.RootElement.GetProperty("cells").EnumerateArray().Count(c => c.GetProperty("cell_type").GetString() == "code");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new NotebookRunException($"{notebook}: not a notebook ({e.Message})");
        }
    }

    private static void RestoreKernelTool(string root, TextWriter log)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("tool");
        psi.ArgumentList.Add("restore");
        using var p = Process.Start(psi) ?? throw new NotebookRunException("could not start dotnet");
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new NotebookRunException($"dotnet tool restore failed (the kernel, Microsoft.dotnet-interactive): {output.Trim()}");
        log.WriteLine("kernel: dotnet-interactive (dotnet-tools.json) restored");
    }

    /// <summary>The checkout holding this folder: the nearest parent with Era.sln and dotnet-tools.json.</summary>
    public static string RepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Era.sln")) && File.Exists(Path.Combine(dir.FullName, "dotnet-tools.json")))
                return dir.FullName;
        throw new NotebookRunException($"{start} is not inside the course's checkout (no Era.sln with dotnet-tools.json above it)");
    }

}
