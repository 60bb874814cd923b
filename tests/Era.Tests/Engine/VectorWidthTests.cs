using Era.Engine;
using Era.Engine.Kernels;
using Era.Engine.Layers;

namespace Era.Tests.Engine;

/// <summary>A theory that runs only where the CPU has accelerated AVX-512, and says by name that it did not run elsewhere.</summary>
public sealed class Avx512TheoryAttribute : TheoryAttribute
{
    public Avx512TheoryAttribute()
    {
        if (!ConvKernels.Is512Supported) Skip = "this CPU has no accelerated AVX-512: the 512-bit kernels were not run";
    }
}

/// <summary>
/// The convolution kernels and the fused BatchNorm → ReLU → Dropout at both vector widths (AVX2's 256 bits, AVX-512's
/// 512) against each other and against the readable loops (Conv2d in double, which never takes the fast path; the block's
/// layers one by one), at 1, 2 and 3 threads, on the course models' shapes and odd ones.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class VectorWidthTests
{
    public static TheoryData<int, int, int, int, int, int> Shapes => new()
    {
        { 4, 1, 10, 28, 3, 0 },   // course f.0
        { 3, 10, 16, 26, 3, 0 },  // course f.1
        { 2, 16, 16, 24, 3, 0 },  // course f.2 (and the reference's 16→16)
        { 3, 16, 10, 11, 1, 0 },  // the 1×1 transition
        { 2, 16, 20, 7, 3, 0 },
        { 2, 20, 20, 5, 3, 1 },   // padded
        { 3, 5, 6, 9, 5, 2 },     // 5×5, padding 2, odd sizes
    };

    private sealed record Pass(float[] Y, float[] Dx, float[] DW);

    private static Pass Run(int bits, int threads, float[] x, int n, int cin, int cout, int size, int k, int pad, float[] weight, float[] dy, bool winograd = true, bool lanes = true) =>
        Run(bits, threads, x, n, cin, cout, size, k, pad, weight, dy, winograd, lanes, out _);

    private static Pass Run(int bits, int threads, float[] x, int n, int cin, int cout, int size, int k, int pad, float[] weight, float[] dy, bool winograd, bool lanes, out (string Forward, string InputGrad) algorithms)
    {
        int before = ConvKernels.VectorBits;
        bool winogradBefore = Winograd.Enabled, lanesBefore = LanesConv2d.Enabled;
        try
        {
            ConvKernels.VectorBits = bits;
            Winograd.Enabled = winograd;
            LanesConv2d.Enabled = lanes;
            torch.set_num_threads(threads);
            var conv = new FastConv2d(cin, cout, k, pad);
            int ho = size + 2 * pad - k + 1;
            var y = new float[n * cout * ho * ho];
            conv.Forward(x, n, size, size, weight, null, y);
            var dW = new float[weight.Length];
            var dx = new float[x.Length];
            conv.Backward(x, n, size, size, weight, dy, dW, null, dx);
            algorithms = conv.Algorithms;
            return new Pass(y, dx, dW);
        }
        finally
        {
            ConvKernels.VectorBits = before;
            Winograd.Enabled = winogradBefore;
            LanesConv2d.Enabled = lanesBefore;
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }

    private static (float[] X, float[] W, float[] Dy) Inputs(int n, int cin, int cout, int size, int k, int pad)
    {
        var g = new Generator(23);
        int ho = size + 2 * pad - k + 1;
        float[] R(int len) => Enumerable.Range(0, len).Select(_ => (float)g.Uniform(-1, 1)).ToArray();
        return (R(n * cin * size * size), R(cout * cin * k * k), R(n * cout * ho * ho));
    }

    /// <summary>The readable loops: Conv2d in double (no fast path for double), from the same float numbers.</summary>
    private static Pass Reference(float[] x, int n, int cin, int cout, int size, int k, int pad, float[] weight, float[] dy)
    {
        var conv = new Conv2d<double>(cin, cout, k, padding: pad, bias: false);
        for (int i = 0; i < weight.Length; i++) conv.weight.Value.Data[i] = weight[i];
        var y = conv.Forward(new Tensor<double>(x.Select(v => (double)v).ToArray(), n, cin, size, size));
        var dx = conv.Backward(new Tensor<double>(dy.Select(v => (double)v).ToArray(), y.Shape));
        return new Pass(y.Data.Select(v => (float)v).ToArray(), dx.Data.Select(v => (float)v).ToArray(), conv.weight.Grad.Data.Select(v => (float)v).ToArray());
    }

    private static void Close(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(MathF.Abs) + 1e-6f;
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"{what}[{i}]: reference {expected[i]} vs kernel {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Avx2KernelsMatchTheReadableLoops(int n, int cin, int cout, int size, int k, int pad) => MatchesReference(256, n, cin, cout, size, k, pad);

    [Avx512Theory]
    [MemberData(nameof(Shapes))]
    public void Avx512KernelsMatchTheReadableLoops(int n, int cin, int cout, int size, int k, int pad) => MatchesReference(512, n, cin, cout, size, k, pad);

    private static void MatchesReference(int bits, int n, int cin, int cout, int size, int k, int pad)
    {
        var (x, w, dy) = Inputs(n, cin, cout, size, k, pad);
        var reference = Reference(x, n, cin, cout, size, k, pad, w, dy);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var r = Run(bits, threads, x, n, cin, cout, size, k, pad, w, dy);
            Close(reference.Y, r.Y, $"{bits}-bit y at {threads} threads");
            Close(reference.Dx, r.Dx, $"{bits}-bit dx at {threads} threads");
            Close(reference.DW, r.DW, $"{bits}-bit dW at {threads} threads");
        }
    }

    [Avx512Theory]
    [MemberData(nameof(Shapes))]
    public void DirectAvx512GivesAvx2sOutputsBitForBitAndItsOwnGradientsRunToRun(int n, int cin, int cout, int size, int k, int pad)
    {
        // The direct kernels' forward and dx sum the same products in the same order at either width; dW's lanes are grouped otherwise.
        var (x, w, dy) = Inputs(n, cin, cout, size, k, pad);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var narrow = Run(256, threads, x, n, cin, cout, size, k, pad, w, dy);
            var wide = Run(512, threads, x, n, cin, cout, size, k, pad, w, dy, winograd: false, lanes: false);
            Assert.Equal(narrow.Y, wide.Y);
            Assert.Equal(narrow.Dx, wide.Dx);
            Close(narrow.DW, wide.DW, $"dW at {threads} threads");
            Assert.Equal(wide.DW, Run(512, threads, x, n, cin, cout, size, k, pad, w, dy, winograd: false, lanes: false).DW);
        }
    }

    /// <summary>Shapes where Winograd F(2×2, 3×3) runs at 512 bits or not, and which passes run it (forward; dx).</summary>
    public static TheoryData<int, int, int, int, int, string, string> WinogradShapes => new()
    {
        { 2, 16, 16, 24, 0, "winograd", "winograd" },   // reference f.2
        { 2, 8, 16, 26, 0, "direct", "winograd" },      // reference f.1: 8 channels in runs direct; its dx (16 in) Winograd
        { 3, 10, 16, 26, 0, "direct", "winograd" },     // course f.1
        { 2, 16, 8, 24, 1, "winograd", "direct" },      // padding 1; dx has 8 channels in
        { 2, 17, 16, 8, 2, "winograd", "winograd" },    // padding 2, channels not multiples of 4
        { 1, 16, 5, 34, 0, "winograd", "direct" },      // the widest output a tile row holds (32); dx's 34 is too wide
        { 2, 16, 16, 13, 0, "direct", "direct" },       // odd output (11)
    };

    [Avx512Theory]
    [MemberData(nameof(WinogradShapes))]
    public void WinogradMatchesTheReadableLoopsAndRepeatsBitForBit(int n, int cin, int cout, int size, int pad, string forward, string inputGrad)
    {
        var (x, w, dy) = Inputs(n, cin, cout, size, 3, pad);
        var reference = Reference(x, n, cin, cout, size, 3, pad, w, dy);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var r = Run(512, threads, x, n, cin, cout, size, 3, pad, w, dy, winograd: true, lanes: true, out var algorithms);
            Assert.Equal((forward, inputGrad), algorithms);
            Close(reference.Y, r.Y, $"winograd y at {threads} threads");
            Close(reference.Dx, r.Dx, $"winograd dx at {threads} threads");
            Close(reference.DW, r.DW, $"winograd dW at {threads} threads");
            var again = Run(512, threads, x, n, cin, cout, size, 3, pad, w, dy);
            Assert.Equal(r.Y, again.Y);
            Assert.Equal(r.Dx, again.Dx);
            Assert.Equal(r.DW, again.DW);
        }
    }

    /// <summary>Small planes, where 16 images share a vector: batches that fill the lanes, part-fill the last group or not one group.</summary>
    public static TheoryData<int, int, int, int, int, int> LanesShapes => new()
    {
        { 33, 16, 16, 9, 3, 0 },   // reference f.6 (7×7 out); three groups, the last holding one image
        { 20, 8, 16, 9, 3, 0 },    // 8 channels in, 7×7 out (the largest run this way)
        { 17, 16, 16, 5, 3, 1 },   // reference f.8, padding 1
        { 16, 16, 10, 7, 3, 0 },   // output channels not a multiple of 8
        { 5, 3, 5, 6, 5, 2 },      // 5×5 kernel, padding 2, fewer images than lanes
        { 18, 16, 10, 7, 1, 0 },   // a 1×1 convolution
    };

    [Avx512Theory]
    [MemberData(nameof(LanesShapes))]
    public void ImagesInLanesMatchTheReadableLoopsAndRepeatBitForBit(int n, int cin, int cout, int size, int k, int pad)
    {
        var (x, w, dy) = Inputs(n, cin, cout, size, k, pad);
        var reference = Reference(x, n, cin, cout, size, k, pad, w, dy);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var r = Run(512, threads, x, n, cin, cout, size, k, pad, w, dy, winograd: true, lanes: true, out var algorithms);
            Assert.Equal(("lanes", "lanes"), algorithms);
            Close(reference.Y, r.Y, $"lanes y at {threads} threads");
            Close(reference.Dx, r.Dx, $"lanes dx at {threads} threads");
            Close(reference.DW, r.DW, $"lanes dW at {threads} threads");
            var again = Run(512, threads, x, n, cin, cout, size, k, pad, w, dy);
            Assert.Equal(r.Y, again.Y);
            Assert.Equal(r.Dx, again.Dx);
            Assert.Equal(r.DW, again.DW);
        }
    }

    [Fact]
    public void WinogradAndLanesRunOnlyAtFullWidthAndWhenEnabled()
    {
        var (x, w, dy) = Inputs(2, 16, 16, 24, 3, 0);
        Run(256, 1, x, 2, 16, 16, 24, 3, 0, w, dy, winograd: true, lanes: true, out var narrow);
        Assert.Equal(("direct", "direct"), narrow);
        if (!ConvKernels.Is512Supported) return;
        Run(512, 1, x, 2, 16, 16, 24, 3, 0, w, dy, winograd: false, lanes: true, out var off);
        Assert.Equal(("direct", "direct"), off);
        var (xs, ws, dys) = Inputs(2, 16, 16, 7, 3, 0);
        Run(512, 1, xs, 2, 16, 16, 7, 3, 0, ws, dys, winograd: true, lanes: false, out var lanesOff);
        Assert.Equal(("direct", "direct"), lanesOff);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Avx2FusedBatchNormReluDropoutMatchesTheLayers(int threads) => AtWidth(256, () => BlockTests.FusedBlockMatchesTheLayers(threads));

    [Avx512Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Avx512FusedBatchNormReluDropoutMatchesTheLayers(int threads) => AtWidth(512, () => BlockTests.FusedBlockMatchesTheLayers(threads));

    private static void AtWidth(int bits, Action test)
    {
        int before = ConvKernels.VectorBits;
        try
        {
            ConvKernels.VectorBits = bits;
            test();
        }
        finally
        {
            ConvKernels.VectorBits = before;
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }

    [Fact]
    public void AWidthTheCpuLacksIsRefused()
    {
        Assert.Contains("not available", Assert.Throws<ArgumentException>(() => ConvKernels.VectorBits = 128).Message);
        if (!ConvKernels.Is512Supported) Assert.Throws<ArgumentException>(() => ConvKernels.VectorBits = 512);
    }
}
