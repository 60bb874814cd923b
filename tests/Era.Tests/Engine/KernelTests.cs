using Era.Engine;
using Era.Engine.Kernels;
using Era.Engine.Layers;
using Era.Engine.Models;

namespace Era.Tests.Engine;

[Collection(EngineCollection.Name)]
public class KernelTests
{
    [Theory]
    [InlineData(2, 1, 8, 28, 28, 3, 0, false)]   // ReferenceNet's first layer
    [InlineData(3, 16, 8, 11, 11, 1, 0, false)]  // 1×1
    [InlineData(2, 5, 6, 7, 9, 3, 1, true)]      // odd sizes, padding 1, bias
    [InlineData(3, 3, 10, 6, 5, 3, 2, true)]     // padding 2
    [InlineData(5, 16, 16, 5, 5, 3, 1, false)]   // ReferenceNet's last conv
    [InlineData(1, 2, 3, 9, 13, 5, 0, true)]     // 5×5 kernel
    [InlineData(4, 7, 1, 4, 3, 2, 1, true)]      // even kernel, one output channel
    public void FastFloatConvMatchesTheReferenceLoops(int n, int cin, int cout, int h, int w, int k, int pad, bool bias)
    {
        Assert.True(FastConv2d.IsSupported, "this machine has AVX2+FMA, the fast path must be tested");
        var g = new Generator(17);
        torch.manual_seed(3);
        var fast = new Conv2d<float>(cin, cout, k, 1, pad, bias);
        var slow = new Conv2d<float>(cin, cout, k, 1, pad, bias);
        for (int i = 0; i < fast.parameters().Count(); i++)
            slow.parameters().ElementAt(i).Value.CopyFrom(fast.parameters().ElementAt(i).Value);
        var x = RandomFloat(g, n, cin, h, w);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            torch.set_num_threads(threads);
            fast.zero_grad();
            slow.zero_grad();
            var yf = fast.Forward(x).Clone();
            Tensor<float> ys, dxs;
            var dy = RandomFloat(g, yf.Shape);
            using (torch.backends.fast.flags(false))
            {
                ys = slow.Forward(x).Clone();
                dxs = slow.Backward(dy).Clone();
            }
            AssertClose(ys, yf, "y");
            AssertClose(dxs, fast.Backward(dy), "dx");
            AssertClose(slow.weight.Grad, fast.weight.Grad, "dW");
            if (bias) AssertClose(slow.bias!.Grad, fast.bias!.Grad, "db");
        }
        torch.set_num_threads(Environment.ProcessorCount);
    }

    internal static Tensor<float> RandomFloat(Generator g, params int[] shape)
    {
        var t = new Tensor<float>(shape);
        for (int i = 0; i < t.Numel; i++) t.Data[i] = (float)g.Uniform(-1, 1);
        return t;
    }

    private static void AssertClose(Tensor<float> expected, Tensor<float> actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        float scale = expected.Data.Max(MathF.Abs) + 1e-6f;
        for (int i = 0; i < expected.Numel; i++)
            Assert.True(MathF.Abs(expected.Data[i] - actual.Data[i]) <= 1e-5f * scale + 1e-6f,
                $"{what}[{i}]: reference {expected.Data[i]} vs fast {actual.Data[i]}");
    }

    [Fact]
    public void ElementwiseKernelsHandleTails()
    {
        float[] x = [-1, 2, -3, 4, 5, -6, 7, 8, -9, 10, 11];   // 11: one vector + a tail of 3
        var y = new float[11];
        Elementwise.Relu<float>(x, y);
        Assert.Equal(x.Select(v => Math.Max(v, 0)), y);
        Assert.Equal(x.Sum(), Elementwise.Sum<float>(x));
        Assert.Equal(x.Sum(v => v * v), Elementwise.Dot<float>(x, x));
        double mean = x.Average();
        Assert.Equal(x.Sum(v => (v - mean) * (v - mean)), Elementwise.SumSquaredDeviations<float>(x, (float)mean), 3);
    }

    [Theory]
    [InlineData(22, 22)]
    [InlineData(35, 37)]   // odd sizes: the last row and column are dropped, tails of 1..7 outputs
    [InlineData(4, 6)]
    [InlineData(18, 19)]   // 9 outputs a row: one vector, then one overlapping it by 7
    [InlineData(16, 16)]   // exactly 8 a row: no tail
    public void FastMaxPoolMatchesTheGenericLoop(int h, int w)
    {
        var g = new Generator(5);
        var xf = RandomFloat(g, 3, 4, h, w);
        xf.Data[7] = float.NaN;                                  // NaN propagates, as PyTorch
        for (int i = 20; i < 60; i++) xf.Data[i] = 0.5f;         // ties: first maximum wins
        var xd = new Tensor<double>(xf.Shape);
        for (int i = 0; i < xf.Numel; i++) xd.Data[i] = xf.Data[i];
        var pf = new MaxPool2d<float>(2);
        var pd = new MaxPool2d<double>(2);                       // double takes the generic loop
        var yf = pf.Forward(xf);
        var yd = pd.Forward(xd);
        for (int i = 0; i < yf.Numel; i++) Assert.Equal((float)yd.Data[i], yf.Data[i]);
        var dyf = RandomFloat(g, yf.Shape);
        var dyd = new Tensor<double>(yf.Shape);
        for (int i = 0; i < dyf.Numel; i++) dyd.Data[i] = dyf.Data[i];
        var dxf = pf.Backward(dyf);
        var dxd = pd.Backward(dyd);
        for (int i = 0; i < dxf.Numel; i++) Assert.Equal((float)dxd.Data[i], dxf.Data[i]);
    }

    [Fact]
    public void VectorDropoutMaskEqualsTheScalarHash()
    {
        var seedGen = new Generator(77);
        ulong seed = seedGen.NextUInt64();
        for (uint i = 0; i < 64; i += 8)
        {
            var v = CounterRng.Hash8(seed, i);
            for (int k = 0; k < 8; k++) Assert.Equal(CounterRng.Hash(seed, i + (uint)k), v[k]);
        }
        for (uint i = 0; i < 64; i += 16)
        {
            var v = CounterRng.Hash16(seed, i);
            for (int k = 0; k < 16; k++) Assert.Equal(CounterRng.Hash(seed, i + (uint)k), v[k]);
        }
        // The layer: float (8 lanes) and double (scalar) draw the same mask from the same seed.
        torch.manual_seed(9);
        var yf = new Dropout<float>(0.3).Forward(Ones<float>(1003));
        torch.manual_seed(9);
        var yd = new Dropout<double>(0.3).Forward(Ones<double>(1003));
        for (int i = 0; i < 1003; i++) Assert.Equal(yd.Data[i] == 0, yf.Data[i] == 0);
        Assert.InRange(yf.Data.Count(v => v == 0), 240, 360);   // ≈ 0.3 · 1003 ± 4σ
    }

    private static Tensor<T> Ones<T>(int n) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var t = new Tensor<T>(1, n);
        t.Fill(T.One);
        return t;
    }

    [Fact]
    public void WholeNetFastPathMatchesTheReadablePath()
    {
        Assert.True(BnReluDropout.IsSupported);
        torch.set_num_threads(2);
        try
        {
            (Tensor<float> Out, Tensor<float> Dx, float[] Grads, float[] Stats) Run(bool fast, bool eval = false)
            {
                using var _ = torch.backends.fast.flags(fast);
                torch.manual_seed(4);
                var net = ModelZoo.Create("reference", dropout: 0.2);
                net.InputGradient = true;
                if (eval)
                {
                    foreach (var (_, b) in net.NamedBuffers()) for (int i = 0; i < b.Numel; i++) b.Data[i] = 0.5f + 0.1f * i;   // non-trivial running stats
                    net.eval();
                }
                var x = RandomFloat(new Generator(8), 6, 1, 28, 28);
                var y = net.Forward(x).Clone();
                var loss = F.nll_loss(y, [1, 2, 3, 4, 5, 6]);
                var dx = net.Backward(loss.Grad).Clone();
                return (y, dx, net.parameters().SelectMany(p => p.Grad.Data).ToArray(),
                    net.NamedBuffers().SelectMany(b => b.Buffer.Data).ToArray());
            }
            foreach (bool eval in new[] { false, true })
            {
                var fused = Run(true, eval);
                var plain = Run(false, eval);
                AssertClose(plain.Out, fused.Out, "log-probabilities");
                AssertClose(plain.Dx, fused.Dx, "dx");
                AssertClose(new Tensor<float>(plain.Grads, plain.Grads.Length), new Tensor<float>(fused.Grads, fused.Grads.Length), "parameter grads");
                AssertClose(new Tensor<float>(plain.Stats, plain.Stats.Length), new Tensor<float>(fused.Stats, fused.Stats.Length), "running stats");
            }
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }
}
