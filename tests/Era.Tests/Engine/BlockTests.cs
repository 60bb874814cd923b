using Era.Engine;
using Era.Engine.Layers;
using Era.Engine.Models;

namespace Era.Tests.Engine;

/// <summary>
/// The readable paths (torch.backends.fast.enabled = false) against the fast ones: BatchNorm2d's formulas as written
/// and ConvBnReluDropout's layer-by-layer path against the fused kernel, at 1, 2 and 3 threads; Dropout with its own generator.
/// </summary>
[Collection(EngineCollection.Name)] // sets the thread count and seeds the global generator
public class BlockTests
{
    private static void Close(float[] expected, float[] actual, string what, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what}[{i}]: {expected[i]} vs {actual[i]}");
    }

    private static BatchNorm2d<float> Norm(Generator g)
    {
        var bn = new BatchNorm2d<float>(5);
        for (int c = 0; c < 5; c++)
        {
            bn.weight!.Value.Data[c] = (float)g.Uniform(0.5, 1.5);
            bn.bias!.Value.Data[c] = (float)g.Uniform(-0.5, 0.5);
            bn.running_mean.Data[c] = (float)g.Uniform(-1, 1);
            bn.running_var.Data[c] = (float)g.Uniform(0.5, 2);
        }
        return bn;
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    public void BatchNormFastPathMatchesTheFormulas(int threads, bool training)
    {
        torch.set_num_threads(threads);
        var fast = Norm(new Generator(1));
        var reference = Norm(new Generator(1));
        fast.train(training);
        reference.train(training);
        var x = KernelTests.RandomFloat(new Generator(2), 4, 5, 6, 7);
        for (int i = 0; i < x.Numel; i++) x.Data[i] = 3 + 2 * x.Data[i];   // a mean far from 0
        var dy = KernelTests.RandomFloat(new Generator(3), 4, 5, 6, 7);

        float[] y, dx;
        using (torch.backends.fast.flags(false))
        {
            y = reference.Forward(x).Data.ToArray();
            dx = reference.Backward(dy).Data.ToArray();
        }
        Close(y, fast.Forward(x).Data, "y");
        Close(dx, fast.Backward(dy).Data, "dx");
        Close(reference.weight!.Grad.Data, fast.weight!.Grad.Data, "dγ");
        Close(reference.bias!.Grad.Data, fast.bias!.Grad.Data, "dβ");
        Close(reference.running_mean.Data, fast.running_mean.Data, "running_mean");
        Close(reference.running_var.Data, fast.running_var.Data, "running_var");
        Assert.Equal(reference.num_batches_tracked.Data, fast.num_batches_tracked.Data);
    }

    [Fact]
    public void BatchNormReferenceBackwardSumsToZeroInTraining()
    {
        // In training dx is orthogonal to 1 and to x̂ per channel (the mean and variance terms remove those directions):
        // a constant shift of a channel's input changes nothing, so Σ dx = 0.
        var bn = Norm(new Generator(4));
        var x = KernelTests.RandomFloat(new Generator(5), 3, 5, 4, 4);
        using var readable = torch.backends.fast.flags(false);
        bn.Forward(x);
        var dx = bn.Backward(KernelTests.RandomFloat(new Generator(6), 3, 5, 4, 4));
        for (int c = 0; c < 5; c++)
        {
            double sum = 0;
            for (int n = 0; n < 3; n++) for (int j = 0; j < 16; j++) sum += dx.Data[(n * 5 + c) * 16 + j];
            Assert.True(Math.Abs(sum) < 1e-4, $"channel {c}: Σ dx = {sum}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void FusedBlockMatchesTheLayersOneByOne(int threads) => FusedBlockMatchesTheLayers(threads);

    /// <summary>
    /// The fused block against its layers one by one, at the current vector width (VectorWidthTests runs both), on
    /// planes of 81 (five 16-float vectors and one more) and 25 elements (one 16-float, one 8-float vector and one more).
    /// </summary>
    internal static void FusedBlockMatchesTheLayers(int threads)
    {
        torch.set_num_threads(threads);
        foreach (int size in new[] { 9, 5 })
        {
            (float[] Y, float[] Dx, float[] Grads, bool LayerByLayer) Run(bool fast)
            {
                using var _ = torch.backends.fast.flags(fast);
                torch.manual_seed(7);
                var block = (ConvBnReluDropout<float>)MnistNet<float>.Block(3, 6, dropout: 0.3, padding: 1);
                block.Conv.InputRequiresGrad = true;
                var x = KernelTests.RandomFloat(new Generator(8), 5, 3, size, size);
                var y = block.Forward(x).Data.ToArray();
                bool layerByLayer = block.Dropout.Mask is not null;   // the Dropout module ran (not the fused kernel)
                var dx = block.Backward(KernelTests.RandomFloat(new Generator(9), 5, 6, size, size)).Data.ToArray();
                return (y, dx, block.parameters().SelectMany(p => p.Grad.Data).ToArray(), layerByLayer);
            }
            var fused = Run(true);
            var plain = Run(false);
            Assert.False(fused.LayerByLayer);
            Assert.True(plain.LayerByLayer);
            Close(plain.Y, fused.Y, $"y ({size}×{size})");
            Close(plain.Dx, fused.Dx, $"dx ({size}×{size})");
            Close(plain.Grads, fused.Grads, $"grads ({size}×{size})");
            Assert.Contains(0f, fused.Y);   // dropout and ReLU did zero some
        }
    }

    [Fact]
    public void BlockKeepsPyTorchNames()
    {
        var block = MnistNet<float>.Block(1, 4, 0.1);
        Assert.Equal(["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"],
            block.state_dict().Select(e => e.Name));
    }

    [Fact]
    public void DropoutDrawsFromItsOwnGenerator()
    {
        var x = new Tensor<float>(1000);
        x.Fill(1);
        float[] Mask(ulong seed)
        {
            var d = new Dropout<float>(0.5, new Generator(seed));
            return d.Forward(x).Data.ToArray();
        }
        torch.manual_seed(1);
        var a = Mask(3);
        torch.manual_seed(2);                 // the global generator does not matter
        Assert.Equal(a, Mask(3));
        Assert.NotEqual(a, Mask(4));
        Assert.InRange(a.Count(v => v == 0), 400, 600);
        var global = new Dropout<float>(0.5);
        Assert.Same(torch.default_generator, global.Generator);
    }

    [Theory]
    [InlineData("course")]
    [InlineData("reference")]
    [InlineData("tiny")]
    public void OneTrainingStepGivesTheSameLossAndGradientsOnBothPaths(string model)
    {
        torch.set_num_threads(2);
        try
        {
            var g = new Generator(11);
            var images = KernelTests.RandomFloat(g, 16, 1, 28, 28);
            int[] labels = [.. Enumerable.Range(0, 16).Select(i => i % 10)];
            var check = Era.Engine.Training.FastPathCheck.Run(Era.Engine.Training.Recipe.For(model), images, labels);
            Assert.Equal(ModelZoo.Create(model).parameters().Count(), check.Gradients.Count);
            Assert.All(check.Gradients, d => Assert.True(d.MaxAbs > 0, $"{d.Tensor}: no gradient"));
            Assert.True(check.Worst < 1e-5, $"worst relative difference {check.Worst:E2}: " + string.Join(", ", check.Gradients.Select(d => $"{d.Tensor} {d.Relative:E1}")));
            Assert.True(torch.backends.fast.enabled);   // restored
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }
}
