using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Era.IO;
using Era.Torch.Probe;
using TorchSharp;
using static TorchSharp.torch;

namespace Era.Torch;

/// <summary>One convolution the probe checks: a batch of <c>[Batch, In, Size, Size]</c> through <c>In → Out</c>, kernel <c>Kernel</c>.</summary>
public sealed record ProbeShape(int In, int Out, int Kernel, int Padding = 0, int Batch = 8, int Size = 12)
{
    public override string ToString() => $"{In}→{Out} {Kernel}×{Kernel}{(Padding > 0 ? $" padding {Padding}" : "")}";
}

/// <summary>What one probe run measured: the worst relative error and where, or why it could not run.</summary>
/// <param name="Limit">the ONEDNN_MAX_CPU_ISA it ran under; null: none (oneDNN's widest).</param>
/// <param name="Error">max |float32 − float64| / max |float64| over every tensor checked; +∞ for NaN or a failed run.</param>
/// <param name="Worst">which convolution and tensor gave <paramref name="Error"/>, or what went wrong.</param>
public sealed record ProbeRun(string? Limit, double Error, string Worst)
{
    public bool Passed => Error <= ConvolutionProbe.Tolerance;
}

/// <summary>The probe's verdict: the ONEDNN_MAX_CPU_ISA to set (null: none needed) and one line saying why.</summary>
public sealed record ProbeVerdict(string? Limit, bool UserSet, string Reason, IReadOnlyList<ProbeRun> Runs);

/// <summary>
/// Does this libtorch compute float32 convolutions right on this CPU? libtorch 2.10's oneDNN (v3.7.1) does not on
/// some CPUs: its jit:avx512_core, jit:avx2 and jit:avx convolutions on padded blocked layouts (channel counts that
/// are not a multiple of 8 or 16, as in the course models: 1→10, 16→10, 16→20, 12→8) return errors of 0.1–0.6 and NaN,
/// while with <c>ONEDNN_MAX_CPU_ISA=SSE41</c> (the gemm path) they are right to ~1e-7. The check, for each
/// <see cref="Shapes"/>: forward, input gradient and weight gradient in float32 against float64 (which oneDNN does
/// not compute), at one thread and at every core. oneDNN picks its instruction set once, at the first convolution of
/// a process, so each limit is tried in a child process (<see cref="ProbeHost"/>), from the widest down; the first
/// that passes wins (<see cref="Choose"/>) and <see cref="TorchNative.EnsureLoaded"/> sets it before libtorch starts.
/// The verdict is cached per CPU, libtorch build and core count (<see cref="CacheKey"/>).
/// <para>The same check in a few lines, to take upstream (TorchSharp 0.107 / libtorch 2.10):</para>
/// <code>
///   var x = torch.randn(8, 16, 12, 12, float64); var w = torch.randn(10, 16, 1, 1, float64);
///   var y64 = functional.conv2d(x, w);
///   var y32 = functional.conv2d(x.to(float32), w.to(float32)).to(float64);
///   Console.WriteLine(((y32 - y64).abs().max() / y64.abs().max()).item&lt;double&gt;());   // ~1e-7 right, 0.1–0.6 or NaN wrong
/// </code>
/// </summary>
public static class ConvolutionProbe
{
    /// <summary>Largest relative error accepted: float32 against float64 is ~1e-7 here; the fault gives 1e-1 and NaN.</summary>
    public const double Tolerance = 1e-4;

    /// <summary><c>ERA_TORCH_PROBE=off</c> skips the probe (if its child processes cannot run somewhere); the verdict then says so.</summary>
    public const string SwitchVariable = "ERA_TORCH_PROBE";

    /// <summary>Set in the child's environment: its <see cref="TorchNative.EnsureLoaded"/> loads libtorch without probing again.</summary>
    public const string ChildVariable = "ERA_TORCH_PROBE_CHILD";

    /// <summary>The variable oneDNN reads (its older name, DNNL_MAX_CPU_ISA, is read too and respected the same way).</summary>
    public const string IsaVariable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The convolutions of the course models (reference, course, tiny), wrong and right ones alike.</summary>
    /// <summary>JSON of the child's line and the cache, with NaN and ∞ written as such.</summary>
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static readonly IReadOnlyList<ProbeShape> Shapes =
    [
        new(1, 10, 3), new(10, 16, 3), new(16, 16, 3), new(16, 10, 1), new(16, 20, 3), new(20, 20, 3, Padding: 1),
        new(1, 8, 3), new(8, 12, 3), new(12, 12, 3), new(12, 8, 1), new(8, 16, 3),
    ];

    // ---- The check (runs in the process that is being probed) ----------------------------------------------------

    /// <summary>
    /// The worst relative error of float32 against float64 over <paramref name="shapes"/> (forward, input and weight
    /// gradients) at each of <paramref name="threads"/>, in this process; NaN counts as +∞.
    /// </summary>
    public static (double Error, string Worst) Measure(IEnumerable<ProbeShape> shapes, IEnumerable<int> threads)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        ArgumentNullException.ThrowIfNull(threads);
        double worst = -1; // below any error, so the first comparison names where
        string where = "nothing checked";
        var list = shapes.ToList();
        foreach (int t in threads)
        {
            torch.set_num_threads(t);
            foreach (var s in list)
            {
                foreach (var (tensor, error) in Compare(s, seed: 1))
                {
                    if (error > worst)
                    {
                        worst = error;
                        where = $"{s} {tensor} at {t} thread{(t == 1 ? "" : "s")}";
                    }
                }
            }
        }
        return (Math.Max(worst, 0), where);
    }

    /// <summary>One convolution in float32 and float64 from the same numbers: (tensor name, relative error) for output, input and weight gradients.</summary>
    public static IEnumerable<(string Tensor, double Error)> Compare(ProbeShape s, int seed)
    {
        ArgumentNullException.ThrowIfNull(s);
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var x64 = randn([s.Batch, s.In, s.Size, s.Size], ScalarType.Float64, generator: generator);
        var w64 = randn([s.Out, s.In, s.Kernel, s.Kernel], ScalarType.Float64, generator: generator) * (1.0 / Math.Sqrt(s.In * s.Kernel * s.Kernel));
        int outSize = s.Size + 2 * s.Padding - s.Kernel + 1;
        var dy64 = randn([s.Batch, s.Out, outSize, outSize], ScalarType.Float64, generator: generator);
        var (y64, dx64, dw64) = Convolve(x64, w64, dy64, s.Padding);
        var (y32, dx32, dw32) = Convolve(x64.to(ScalarType.Float32), w64.to(ScalarType.Float32), dy64.to(ScalarType.Float32), s.Padding);
        return [("output", Relative(y32, y64)), ("input gradient", Relative(dx32, dx64)), ("weight gradient", Relative(dw32, dw64))];
    }

    private static (Tensor Y, Tensor Dx, Tensor Dw) Convolve(Tensor x, Tensor w, Tensor dy, int padding)
    {
        x = x.detach().requires_grad_(true);
        w = w.detach().requires_grad_(true);
        var y = nn.functional.conv2d(x, w, padding: [padding, padding]);
        y.backward([dy]);
        return (y.detach(), x.grad!, w.grad!);
    }

    private static double Relative(Tensor a, Tensor reference)
    {
        double diff = (a.to(ScalarType.Float64) - reference).abs().max().item<double>();
        double scale = reference.abs().max().item<double>();
        double e = diff / Math.Max(scale, double.Epsilon);
        return double.IsNaN(e) ? double.PositiveInfinity : e;
    }

    /// <summary>
    /// The child's entry (<see cref="ProbeHost"/>): loads libtorch as <see cref="TorchNative.EnsureLoaded"/> does (without
    /// probing), measures at 1 thread and at every core, prints <c>{"error":…,"worst":"…"}</c> and returns 0.
    /// </summary>
    public static int Child(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        TorchNative.EnsureLoaded();
        var (error, worst) = Measure(Shapes, Threads());
        Console.Out.WriteLine(JsonSerializer.Serialize(new ChildResult(error, worst), Json));
        return 0;
    }

    private sealed record ChildResult(double Error, string Worst);

    /// <summary>1 and the core count (libtorch's default): the fault was deterministic at one thread, varying at two.</summary>
    private static int[] Threads() => Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1];

    // ---- The decision --------------------------------------------------------------------------------------------

    /// <summary>
    /// The limits to try, widest first: none (oneDNN's own widest), then the instruction sets this CPU has of
    /// AVX512_CORE, AVX2, AVX, SSE41 (the gemm path, right where the others were wrong).
    /// </summary>
    public static IReadOnlyList<string?> Ladder()
    {
        var ladder = new List<string?> { null };
        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported) ladder.Add("AVX512_CORE");
        if (Avx2.IsSupported) ladder.Add("AVX2");
        if (Avx.IsSupported) ladder.Add("AVX");
        if (Sse41.IsSupported) ladder.Add("SSE41");
        return ladder;
    }

    /// <summary>
    /// The verdict from probe runs: with <paramref name="userLimit"/> (the user's own ONEDNN_MAX_CPU_ISA) only that is
    /// tried and kept, or refused if wrong; otherwise <paramref name="ladder"/> from the widest down, the first that
    /// passes wins. Throws <see cref="TorchNativeException"/> (one line) when nothing passes: better no TorchSharp than
    /// training on wrong numbers.
    /// </summary>
    public static ProbeVerdict Choose(string? userLimit, IReadOnlyList<string?> ladder, Func<string?, ProbeRun> run)
    {
        ArgumentNullException.ThrowIfNull(ladder);
        ArgumentNullException.ThrowIfNull(run);
        if (!string.IsNullOrEmpty(userLimit))
        {
            var mine = run(userLimit);
            if (!mine.Passed)
                throw new TorchNativeException($"TorchSharp computes wrong convolutions on this CPU with {IsaVariable}={userLimit}, which you set (probe: {Describe(mine)}); unset it to let era choose a limit that is right");
            return new ProbeVerdict(userLimit, true, $"{IsaVariable}={userLimit} (yours): convolutions checked right (probe: {mine.Error:E1})", [mine]);
        }
        var runs = new List<ProbeRun>();
        foreach (var limit in ladder)
        {
            var r = run(limit);
            runs.Add(r);
            if (!r.Passed) continue;
            if (limit is null)
                return new ProbeVerdict(null, false, $"oneDNN's convolutions checked right on this CPU (probe: {r.Error:E1})", runs);
            string wrong = string.Join(", ", runs.SkipLast(1).Select(w => $"{w.Limit ?? "unlimited"} {Describe(w)}"));
            return new ProbeVerdict(limit, false, $"oneDNN's convolutions are wrong on this CPU ({wrong}): limited to {IsaVariable}={limit} (probe: {r.Error:E1})", runs);
        }
        if (runs.All(r => r.Worst.StartsWith(CouldNotRun, StringComparison.Ordinal)))
            throw new TorchNativeException($"the convolution probe could not run ({runs[0].Worst}); set {SwitchVariable}=off to load TorchSharp unchecked");
        throw new TorchNativeException($"TorchSharp computes wrong convolutions on this CPU at every oneDNN limit tried ({string.Join(", ", runs.Select(w => $"{w.Limit ?? "unlimited"} {Describe(w)}"))}): refusing to run on wrong numbers");
    }

    private static string Describe(ProbeRun r) => double.IsPositiveInfinity(r.Error) ? $"NaN or failed: {r.Worst}" : $"{r.Error:E1} in {r.Worst}";

    // ---- Child processes and the cache -----------------------------------------------------------------------------

    /// <summary>Runs the check in a child process under <paramref name="limit"/> (null: none); a crash or a hang is a failed run.</summary>
    public static ProbeRun RunChild(string? limit, TimeSpan? timeout = null)
    {
        string host = typeof(ProbeHost).Assembly.Location;
        var psi = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "exec", "--runtimeconfig", RuntimeConfig(), host }) psi.ArgumentList.Add(a);
        psi.Environment[ChildVariable] = "1";
        psi.Environment[ProbeHost.PathsVariable] = string.Join(Path.PathSeparator, AssemblyFolders());
        psi.Environment.Remove("DNNL_MAX_CPU_ISA");
        if (limit is null) psi.Environment.Remove(IsaVariable);
        else psi.Environment[IsaVariable] = limit;
        using var process = Process.Start(psi) ?? throw new TorchNativeException($"cannot start the convolution probe ({psi.FileName})");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            return new ProbeRun(limit, double.PositiveInfinity, $"{CouldNotRun}: it did not finish in time");
        }
        string output = stdout.GetAwaiter().GetResult(), errors = stderr.GetAwaiter().GetResult();
        string? line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        if (process.ExitCode != 0 || line is null)
            return new ProbeRun(limit, double.PositiveInfinity, $"{CouldNotRun}: it exited with {process.ExitCode}: {LastLine(errors + "\n" + output)}");
        var result = JsonSerializer.Deserialize<ChildResult>(line, Json)!;
        return new ProbeRun(limit, double.IsNaN(result.Error) ? double.PositiveInfinity : result.Error, result.Worst);
    }

    /// <summary>How a run that measured nothing starts its <see cref="ProbeRun.Worst"/>.</summary>
    public const string CouldNotRun = "the probe could not run";

    private static string LastLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no output)";

    /// <summary>The dotnet host running this process (the runtime's root holds it), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        string root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string muxer = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        if (File.Exists(muxer)) return muxer;
        return Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
    }

    /// <summary>A runtimeconfig for the child naming the runtime this process runs on, so the child runs on it too.</summary>
    private static string RuntimeConfig()
    {
        string dir = Path.Combine(TorchNative.DefaultCacheDir(), "probe");
        string path = Path.Combine(dir, $"runtimeconfig-{Environment.Version}.json");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(dir);
            AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new { runtimeOptions = new { tfm = "net8.0", framework = new { name = "Microsoft.NETCore.App", version = Environment.Version.ToString() } } }));
        }
        return path;
    }

    /// <summary>
    /// Where this process found Era.Torch and its dependencies (a build output, or each package's folder in the NuGet
    /// cache of a notebook kernel): those first, then the folder of every other assembly loaded here.
    /// </summary>
    private static IEnumerable<string> AssemblyFolders() =>
        new[] { typeof(ConvolutionProbe), typeof(torch), typeof(Era.IO.AtomicFile), typeof(ProbeHost) }.Select(t => t.Assembly)
            .Concat(AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic))
            .Select(a => Path.GetDirectoryName(a.Location)).Append(AppContext.BaseDirectory)
            .Where(d => !string.IsNullOrEmpty(d)).Select(d => d!).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// The cache key: this CPU (vendor, family, model, stepping and flags from /proc/cpuinfo), this libtorch
    /// (libtorch_cpu.so's size and time, TorchSharp's version) and the core count.
    /// </summary>
    public static string CacheKey(string libtorchCpu)
    {
        var text = new StringBuilder();
        if (File.Exists("/proc/cpuinfo"))
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.Length == 0) break; // the first processor is enough
                string key = line.Split(':', 2)[0].Trim();
                if (key is "vendor_id" or "cpu family" or "model" or "model name" or "stepping" or "flags") text.AppendLine(line);
            }
        }
        var lib = new FileInfo(libtorchCpu);
        text.AppendLine($"{(lib.Exists ? lib.Length : 0)} {(lib.Exists ? lib.LastWriteTimeUtc.Ticks : 0)} {typeof(torch).Assembly.GetName().Version} {Environment.ProcessorCount}");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16].ToLowerInvariant();
    }

    /// <summary>The verdict for <paramref name="key"/> from <paramref name="cacheDir"/>, or chosen now (<see cref="Choose"/>) and cached.</summary>
    public static ProbeVerdict Cached(string cacheDir, string key, string? userLimit, IReadOnlyList<string?> ladder, Func<string?, ProbeRun> run)
    {
        string path = Path.Combine(cacheDir, $"onednn-{key}{(string.IsNullOrEmpty(userLimit) ? "" : "-" + userLimit)}.json");
        try
        {
            if (File.Exists(path) && JsonSerializer.Deserialize<ProbeVerdict>(File.ReadAllText(path), Json) is { Reason.Length: > 0 } cached)
                return cached;
        }
        catch (JsonException)
        {
            // a damaged cache file: probe again and rewrite it
        }
        var verdict = Choose(userLimit, ladder, run);
        Directory.CreateDirectory(cacheDir);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(verdict, Json));
        return verdict;
    }
}
