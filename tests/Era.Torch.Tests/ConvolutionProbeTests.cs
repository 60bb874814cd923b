using Era.Engine.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Era.Torch.Tests;

/// <summary>
/// libtorch 2.10's oneDNN computes wrong float32 convolutions on some CPUs (AVX-512 and AVX2 jit kernels on padded
/// channel blocks). These tests check the probe that catches it (its decision on stubbed results, its cache, the real
/// child process) and, through the limit it chose, every convolution of the course models in TorchSharp against
/// float64 and against the engine, forward and backward, at 1 and 2 threads.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ConvolutionProbeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-probe-").FullName;
    private readonly TorchNativeInfo _native = TorchNative.EnsureLoaded();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string?[] FullLadder = [null, "AVX512_CORE", "AVX2", "AVX", "SSE41"];

    /// <summary>A stubbed probe: the error each limit gives, and the order in which limits were tried.</summary>
    private sealed class Stub(Dictionary<string, double> errors)
    {
        public List<string?> Tried { get; } = [];

        public ProbeRun Run(string? limit)
        {
            Tried.Add(limit);
            return new ProbeRun(limit, errors[limit ?? "none"], "16→10 1×1 output at 2 threads");
        }
    }

    [Fact]
    public void WhenTheWidestIsRightNoLimitIsSetAndNothingElseIsTried()
    {
        var stub = new Stub(new() { ["none"] = 2e-7 });
        var verdict = ConvolutionProbe.Choose(null, FullLadder, stub.Run);
        Assert.Null(verdict.Limit);
        Assert.False(verdict.UserSet);
        Assert.Equal([null], stub.Tried);
        Assert.Contains("checked right", verdict.Reason);
    }

    [Fact]
    public void WhenWideKernelsAreWrongTheWidestRightLimitWins()
    {
        // This machine's kind (AMD family 26, 2026-12-02): AVX-512, AVX2 and AVX kernels wrong, NaN at 2 threads; SSE4.1 right.
        var stub = new Stub(new() { ["none"] = 0.36, ["AVX512_CORE"] = 0.36, ["AVX2"] = double.PositiveInfinity, ["AVX"] = 0.12, ["SSE41"] = 1.1e-7 });
        var verdict = ConvolutionProbe.Choose(null, FullLadder, stub.Run);
        Assert.Equal("SSE41", verdict.Limit);
        Assert.Equal(FullLadder, stub.Tried);
        Assert.Contains("wrong on this CPU", verdict.Reason);
        Assert.Contains("limited to ONEDNN_MAX_CPU_ISA=SSE41", verdict.Reason);
        Assert.Contains("AVX2 NaN", verdict.Reason);
        Assert.DoesNotContain('\n', verdict.Reason);

        var middle = new Stub(new() { ["none"] = 0.2, ["AVX512_CORE"] = 0.2, ["AVX2"] = 3e-7 });
        Assert.Equal("AVX2", ConvolutionProbe.Choose(null, FullLadder, middle.Run).Limit);
        Assert.Equal([null, "AVX512_CORE", "AVX2"], middle.Tried);
    }

    [Fact]
    public void WhenNothingIsRightItRefusesInOneLine()
    {
        var stub = new Stub(FullLadder.ToDictionary(l => l ?? "none", _ => 0.5));
        var e = Assert.Throws<TorchNativeException>(() => ConvolutionProbe.Choose(null, FullLadder, stub.Run));
        Assert.Contains("refusing to run on wrong numbers", e.Message);
        Assert.Contains("SSE41 5.0E-001", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AProbeThatCannotRunAtAllSaysSoAndHowToGoOn()
    {
        var e = Assert.Throws<TorchNativeException>(() => ConvolutionProbe.Choose(null, FullLadder,
            l => new ProbeRun(l, double.PositiveInfinity, $"{ConvolutionProbe.CouldNotRun}: it exited with 134: c10::Error")));
        Assert.Contains("could not run", e.Message);
        Assert.Contains("c10::Error", e.Message);
        Assert.Contains("ERA_TORCH_PROBE=off", e.Message);

        var slow = ConvolutionProbe.RunChild("SSE41", TimeSpan.FromMilliseconds(1)); // a real child, stopped
        Assert.False(slow.Passed);
        Assert.StartsWith(ConvolutionProbe.CouldNotRun, slow.Worst);
    }

    [Fact]
    public void TheUsersOwnLimitIsTheOnlyOneTriedAndKeptOrRefused()
    {
        var right = new Stub(new() { ["AVX2"] = 1e-7 });
        var kept = ConvolutionProbe.Choose("AVX2", FullLadder, right.Run);
        Assert.Equal(("AVX2", true), (kept.Limit, kept.UserSet));
        Assert.Equal(["AVX2"], right.Tried);

        var wrong = new Stub(new() { ["AVX2"] = 0.3 });
        var e = Assert.Throws<TorchNativeException>(() => ConvolutionProbe.Choose("AVX2", FullLadder, wrong.Run));
        Assert.Contains("ONEDNN_MAX_CPU_ISA=AVX2, which you set", e.Message);
        Assert.Equal(["AVX2"], wrong.Tried);
    }

    [Fact]
    public void TheVerdictIsCachedPerKeyAndADamagedCacheIsProbedAgain()
    {
        var stub = new Stub(new() { ["none"] = double.PositiveInfinity, ["AVX512_CORE"] = 0.4, ["AVX2"] = 0.4, ["AVX"] = 0.4, ["SSE41"] = 2e-7 });
        var first = ConvolutionProbe.Cached(_dir, "cpu-a", null, FullLadder, stub.Run);
        var again = ConvolutionProbe.Cached(_dir, "cpu-a", null, FullLadder, stub.Run);
        Assert.Equal(5, stub.Tried.Count); // the second came from the cache
        Assert.Equal((first.Limit, first.Reason), (again.Limit, again.Reason));
        Assert.True(double.IsPositiveInfinity(again.Runs[0].Error)); // NaN/∞ survive the cache as such, not as a pass
        Assert.False(again.Runs[0].Passed);

        ConvolutionProbe.Cached(_dir, "cpu-b", null, FullLadder, stub.Run); // another CPU, libtorch or core count
        Assert.Equal(10, stub.Tried.Count);
        ConvolutionProbe.Cached(_dir, "cpu-a", "SSE41", FullLadder, stub.Run); // the user's own limit: its own entry
        Assert.Equal(11, stub.Tried.Count);

        string file = Assert.Single(Directory.GetFiles(_dir, "onednn-cpu-a.json"));
        File.WriteAllText(file, "{ not json");
        Assert.Equal("SSE41", ConvolutionProbe.Cached(_dir, "cpu-a", null, FullLadder, stub.Run).Limit);
        Assert.Equal(16, stub.Tried.Count);
    }

    [Fact]
    public void TheCacheKeyNamesTheLibtorchBuild()
    {
        string a = Path.Combine(_dir, "a.so"), b = Path.Combine(_dir, "b.so");
        File.WriteAllBytes(a, new byte[10]);
        File.WriteAllBytes(b, new byte[11]);
        Assert.Equal(ConvolutionProbe.CacheKey(a), ConvolutionProbe.CacheKey(a));
        Assert.NotEqual(ConvolutionProbe.CacheKey(a), ConvolutionProbe.CacheKey(b));
    }

    [Fact]
    public void TheRealProbeRunsInAChildProcessAndTheGemmPathPasses()
    {
        // SSE4.1 is oneDNN's gemm path, right on every CPU measured; the child loads libtorch as this process did.
        var run = ConvolutionProbe.RunChild("SSE41");
        Assert.True(run.Passed, $"{run.Error:E2}: {run.Worst}");
        Assert.InRange(run.Error, 1e-12, 1e-5); // float32 rounding shows: the comparison is not of a tensor with itself
        Assert.Matches(@"^\d+→\d+ \d×\d.* (output|input gradient|weight gradient) at \d+ threads?$", run.Worst); // names where
    }

    [Fact]
    public void LoadingSetsTheChosenLimitBeforeLibtorchStartsAndSaysSo()
    {
        var verdict = _native.Convolutions;
        Assert.NotNull(verdict);
        Assert.Contains(verdict.Reason, _native.Reason);
        string? set = TorchNative.NativeEnvironmentVariable(ConvolutionProbe.IsaVariable);
        if (verdict.UserSet) Assert.Equal(verdict.Limit, set);
        else if (verdict.Limit is not null) Assert.Equal(verdict.Limit, set);
        else Assert.Null(set);
        Assert.True(verdict.Runs[^1].Passed);
    }

    /// <summary>Every convolution of the three course models: 3×3 blocks and 1×1 transitions.</summary>
    public static TheoryData<int, int, int, int, int> CourseConvolutions()
    {
        var data = new TheoryData<int, int, int, int, int>();
        var shapes = Architecture.All.SelectMany(a => a.Features).Select(l => l switch
        {
            Block b => (b.In, b.Out, 3, b.Padding),
            Transition t => (t.In, t.Out, 1, 0),
            _ => (0, 0, 0, 0),
        }).Where(s => s.Item1 > 0).Distinct();
        foreach (var (i, o, k, p) in shapes)
        {
            data.Add(i, o, k, p, 1);
            data.Add(i, o, k, p, 2);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CourseConvolutions))]
    public void TorchSharpConvolutionsAreRightAgainstFloat64(int inChannels, int outChannels, int kernel, int padding, int threads)
    {
        torch.set_num_threads(threads);
        foreach (var (tensor, error) in ConvolutionProbe.Compare(new ProbeShape(inChannels, outChannels, kernel, padding, Batch: 16, Size: 14), seed: 7))
            Assert.True(error < 1e-5, $"{inChannels}→{outChannels} {kernel}×{kernel} at {threads} threads, {tensor}: relative error {error:E2} against float64");
    }

    [Theory]
    [MemberData(nameof(CourseConvolutions))]
    public void TorchSharpConvolutionsAgreeWithTheEngine(int inChannels, int outChannels, int kernel, int padding, int threads)
    {
        torch.set_num_threads(threads);
        const int n = 16, size = 14;
        var (x, _) = Fixtures.Batch(n, 3, size);
        x = new Era.Engine.Tensor<float>(Enumerable.Range(0, n * inChannels * size * size).Select(i => x.Data[i % x.Numel] * (1 + i % 3)).ToArray(), n, inChannels, size, size);
        var engine = new Conv2d<float>(inChannels, outChannels, kernel, padding: padding, bias: false);
        var y = engine.Forward(x);
        var (dy, _) = Fixtures.Batch(y.Numel, 4, 1);
        var dyEngine = new Era.Engine.Tensor<float>(dy.Data, y.Shape);
        var dx = engine.Backward(dyEngine);

        using var scope = NewDisposeScope();
        var tx = tensor(x.Data, [n, inChannels, size, size]).requires_grad_(true);
        var tw = tensor(engine.weight.Value.Data, [outChannels, inChannels, kernel, kernel]).requires_grad_(true);
        var ty = nn.functional.conv2d(tx, tw, padding: [padding, padding]);
        ty.backward([tensor(dy.Data, y.Shape.Select(d => (long)d).ToArray())]);
        Check("output", y.Data, ty);
        Check("input gradient", dx.Data, tx.grad!);
        Check("weight gradient", engine.weight.Grad.Data, tw.grad!);

        void Check(string what, float[] expected, Tensor actual)
        {
            float[] a = actual.detach().data<float>().ToArray();
            double scale = expected.Max(v => Math.Abs((double)v));
            double error = Fixtures.MaxAbsDiff(expected, a) / scale;
            Assert.True(error < 1e-5, $"{inChannels}→{outChannels} {kernel}×{kernel} at {threads} threads, {what}: relative difference {error:E2} from the engine");
        }
    }
}
