using Era.Engine;
using Era.Engine.Layers;
using Era.Engine.Models;

namespace Era.Tests.Engine;

[Collection(EngineCollection.Name)]
public class LayerTests
{
    [Fact]
    public void GeneratorMatchesPublishedTestVectors()
    {
        // SplitMix64 from seed 1234567 (Vigna's reference splitmix64.c).
        ulong s = 1234567;
        Assert.Equal(6457827717110365317UL, Generator.SplitMix64(ref s));
        Assert.Equal(3203168211198807973UL, Generator.SplitMix64(ref s));
        // xoshiro256** from state {1, 2, 3, 4} (reference xoshiro256starstar.c, as in rand_xoshiro's tests).
        var g = new Generator();
        g.SetState(1, 2, 3, 4);
        ulong[] expected = [11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600];
        foreach (var e in expected) Assert.Equal(e, g.NextUInt64());
    }

    [Fact]
    public void PermutationIsAPermutationAndSeeded()
    {
        var a = new Generator(5).Permutation(100);
        var b = new Generator(5).Permutation(100);
        Assert.Equal(a, b);
        Assert.Equal(Enumerable.Range(0, 100), a.Order());
        Assert.NotEqual(Enumerable.Range(0, 100), a);
    }

    [Fact]
    public void ReferenceNetHasPyTorchStateDictNamesAndParameterCount()
    {
        var net = ModelZoo.Create("reference");
        Assert.Equal(12098, net.parameters().Sum(p => p.Numel));
        var names = net.state_dict().Select(e => e.Name).ToHashSet();
        // Names from PyTorch's Net().state_dict() (shared/anchors/pytorch_mnist.py): 7 blocks with conv+bn, conv f.4, fc.
        var expected = new List<string> { "f.4.weight", "fc.weight", "fc.bias" };
        foreach (int b in new[] { 0, 1, 2, 5, 6, 7, 8 })
        {
            expected.Add($"f.{b}.0.weight");
            foreach (var s in new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }) expected.Add($"f.{b}.1.{s}");
        }
        Assert.Equal(expected.Order(), names.Order());
        // And in PyTorch's order: a module's parameters, then its buffers, then its children's.
        Assert.Equal(["f.0.0.weight", "f.0.1.weight", "f.0.1.bias", "f.0.1.running_mean", "f.0.1.running_var", "f.0.1.num_batches_tracked", "f.1.0.weight"],
            net.state_dict().Take(7).Select(e => e.Name));
        Assert.Equal(["fc.weight", "fc.bias"], net.state_dict().TakeLast(2).Select(e => e.Name));
        var shapes = net.state_dict().ToDictionary(e => e.Name, e => e.Tensor.Shape);
        Assert.Equal([16, 8, 3, 3], shapes["f.5.0.weight"]);
        Assert.Equal([8, 16, 1, 1], shapes["f.4.weight"]);
        Assert.Equal([10, 16], shapes["fc.weight"]);
        Assert.Equal([], shapes["f.8.1.num_batches_tracked"]);
    }

    [Fact]
    public void InitBoundsAreThoseOfPyTorch()
    {
        torch.manual_seed(11);
        var conv = new Conv2d<double>(16, 32, 3);   // fan_in 144: bound 1/12 for weight and bias
        var lin = new Linear<double>(16, 10);        // fan_in 16: bound 1/4
        void InBound(Tensor<double> t, double bound)
        {
            Assert.All(t.Data, v => Assert.InRange(v, -bound, bound));
            if (t.Numel >= 100) Assert.True(t.Data.Max() > 0.9 * bound && t.Data.Min() < -0.9 * bound, "values should fill the interval");
        }
        InBound(conv.weight.Value, 1.0 / 12);
        InBound(conv.bias!.Value, 1.0 / 12);
        InBound(lin.weight.Value, 0.25);
        InBound(lin.bias!.Value, 0.25);
        // kaiming_uniform_(a = √5): gain √(2/6), bound gain·√(3/fan_in) = 1/√fan_in.
        var t = init.kaiming_uniform_(new Tensor<double>(1000), Math.Sqrt(5), 144);
        Assert.InRange(t.Data.Max(), 0.08, 1.0 / 12);
        var bn = new BatchNorm2d<float>(4);
        Assert.All(bn.weight!.Value.Data, v => Assert.Equal(1f, v));
        Assert.All(bn.bias!.Value.Data, v => Assert.Equal(0f, v));
        Assert.All(bn.running_var.Data, v => Assert.Equal(1f, v));
        Assert.All(bn.running_mean.Data, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void SameSeedGivesSameWeights()
    {
        torch.manual_seed(42);
        var a = ModelZoo.Create("reference");
        torch.manual_seed(42);
        var b = ModelZoo.Create("reference");
        torch.manual_seed(43);
        var c = ModelZoo.Create("reference");
        Assert.Equal(a.fc.weight.Value.Data, b.fc.weight.Value.Data);
        Assert.NotEqual(a.fc.weight.Value.Data, c.fc.weight.Value.Data);
    }

    [Fact]
    public void BatchNormRunningStatsUseUnbiasedVariance()
    {
        // One channel, values 1, 2, 3, 6 (N = 2, H = 1, W = 2): mean 3, biased var 3.5, unbiased var 14/3.
        var bn = new BatchNorm2d<double>(1);
        var x = new Tensor<double>([1, 2, 3, 6], 2, 1, 1, 2);
        var y = bn.Forward(x);
        Assert.Equal(0.9 * 0 + 0.1 * 3, bn.running_mean.Data[0], 12);
        Assert.Equal(0.9 * 1 + 0.1 * 14.0 / 3, bn.running_var.Data[0], 12);
        Assert.Equal(1, bn.num_batches_tracked.Data[0]);
        Assert.Equal((1 - 3) / Math.Sqrt(3.5 + 1e-5), y.Data[0], 12);   // normalized with the biased variance
        bn.Forward(x);
        Assert.Equal(0.9 * 0.3 + 0.1 * 3, bn.running_mean.Data[0], 12);
        Assert.Equal(2, bn.num_batches_tracked.Data[0]);
        bn.eval();
        var ye = bn.Forward(x);
        double rm = 0.9 * 0.3 + 0.1 * 3, rv = 0.9 * (0.9 + 0.1 * 14.0 / 3) + 0.1 * 14.0 / 3;
        Assert.Equal((6 - rm) / Math.Sqrt(rv + 1e-5), ye.Data[3], 12);
        Assert.Equal(2, bn.num_batches_tracked.Data[0]);                 // eval does not count
    }

    [Fact]
    public void DropoutIsIdentityInEvalAndScalesInTraining()
    {
        torch.manual_seed(1);
        var d = new Dropout<float>(0.25);
        var x = new Tensor<float>(64, 1, 32, 32);
        x.Fill(1f);
        var y = d.Forward(x);
        int zeros = y.Data.Count(v => v == 0);
        Assert.All(y.Data, v => Assert.True(v == 0 || Math.Abs(v - 1 / 0.75f) < 1e-6));
        Assert.InRange(zeros / (double)x.Numel, 0.24, 0.26);             // 65,536 draws: ±0.01 is > 5 standard deviations
        d.eval();
        Assert.Same(x, d.Forward(x));
        var d2 = new Dropout2d<float>(0.5);
        var y2 = d2.Forward(x);
        for (int p = 0; p < 64; p++) Assert.Single(y2.Data.AsSpan(p * 1024, 1024).ToArray().Distinct());
    }

    [Fact]
    public void MaxPoolPicksTheMaximumAndRoutesTheGradientToIt()
    {
        var pool = new MaxPool2d<double>(2);
        var x = new Tensor<double>([1, 5, 2, 0, 3, 4, 9, 1, 7, 8, 0, 0, 2, 2, 6, 1], 1, 1, 4, 4);
        var y = pool.Forward(x);
        Assert.Equal([5, 9, 8, 6], y.Data);
        var dx = pool.Backward(new Tensor<double>([1, 2, 3, 4], 1, 1, 2, 2));
        Assert.Equal([0, 1, 0, 0, 0, 0, 2, 0, 0, 3, 0, 0, 0, 0, 4, 0], dx.Data);
    }

    [Fact]
    public void ShapeErrorsNameTheOpAndBothShapes()
    {
        var conv = new Conv2d<float>(3, 8, 3);
        var e = Assert.Throws<ArgumentException>(() => conv.Forward(new Tensor<float>(2, 4, 8, 8)));
        Assert.Contains("Conv2d", e.Message);
        Assert.Contains("[*, 3, *, *]", e.Message);
        Assert.Contains("[2, 4, 8, 8]", e.Message);
        conv.Forward(new Tensor<float>(2, 3, 8, 8));
        e = Assert.Throws<ArgumentException>(() => conv.Backward(new Tensor<float>(2, 8, 5, 5)));
        Assert.Contains("Conv2d.Backward", e.Message);
        Assert.Contains("[2, 8, 5, 5]", e.Message);
        Assert.Contains("[2, 8, 6, 6]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Linear<float>(16, 10).Forward(new Tensor<float>(4, 15)));
        Assert.Contains("Linear", e.Message);
        Assert.Contains("[4, 15]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new BatchNorm2d<float>(8).Forward(new Tensor<float>(2, 16, 3, 3)));
        Assert.Contains("BatchNorm2d", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.nll_loss(new Tensor<float>(2, 10), [1, 10]));
        Assert.Contains("target[1] = 10", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.nll_loss(new Tensor<float>(2, 10), [1]));
        Assert.Contains("nll_loss", e.Message);
        e = Assert.Throws<ArgumentException>(() => ModelZoo.Create("reference").Forward(new Tensor<float>(2, 3, 28, 28)));
        Assert.StartsWith("reference", e.Message);
    }

    [Fact]
    public void TrainAndEvalPropagateToChildren()
    {
        var net = ModelZoo.Create("reference");
        net.eval();
        Assert.All(net.NamedModules(), m => Assert.False(m.Module.Training));
        net.train();
        Assert.All(net.NamedModules(), m => Assert.True(m.Module.Training));
    }

}
