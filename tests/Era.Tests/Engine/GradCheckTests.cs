using Era.Engine;
using Era.Engine.Layers;
using Era.Engine.Models;

namespace Era.Tests.Engine;

[Collection(EngineCollection.Name)]
public class GradCheckTests
{
    private static readonly Generator G = new(7);

    [Theory]
    [InlineData(3, 4, 3, 1, 0, true)]
    [InlineData(3, 4, 3, 1, 1, false)]
    [InlineData(4, 2, 1, 1, 0, false)]    // 1×1
    [InlineData(2, 3, 3, 2, 0, true)]     // stride 2
    [InlineData(2, 3, 3, 2, 1, false)]    // stride 2, padding 1
    [InlineData(1, 2, 2, 1, 1, true)]     // even kernel, padding 1
    public void Conv2dBackwardMatchesFiniteDifferences(int cin, int cout, int k, int stride, int pad, bool bias)
    {
        torch.manual_seed(1);
        var conv = new Conv2d<double>(cin, cout, k, stride, pad, bias);
        GradCheck.Module(conv, GradCheck.Random(G, 2, cin, 6, 7));
    }

    [Fact]
    public void ConvWithoutInputGradStillGivesWeightGradAndZeroDx()
    {
        torch.manual_seed(1);
        var conv = new Conv2d<double>(2, 3, 3) { InputRequiresGrad = false };
        var x = GradCheck.Random(G, 2, 2, 5, 5);
        var dy = GradCheck.Random(G, conv.Forward(x).Shape);
        Assert.All(conv.Backward(dy).Data, v => Assert.Equal(0, v));
        GradCheck.Module(conv, x, checkInput: false);
    }

    [Fact]
    public void BatchNormTrainingBackwardMatchesFiniteDifferences()
    {
        var bn = new BatchNorm2d<double>(3);
        GradCheck.Random(G, 3).Data.CopyTo(bn.weight!.Value.Data, 0);
        GradCheck.Random(G, 3).Data.CopyTo(bn.bias!.Value.Data, 0);
        GradCheck.Module(bn, GradCheck.Random(G, 4, 3, 3, 2));
    }

    [Fact]
    public void BatchNormEvalBackwardMatchesFiniteDifferences()
    {
        var bn = new BatchNorm2d<double>(3);
        GradCheck.Random(G, 3).Data.CopyTo(bn.weight!.Value.Data, 0);
        bn.running_mean.Data[1] = 0.3;
        bn.running_var.Data[2] = 2.5;
        bn.eval();
        GradCheck.Module(bn, GradCheck.Random(G, 2, 3, 3, 2));
    }

    [Fact]
    public void BatchNormWithoutAffineMatchesFiniteDifferences() =>
        GradCheck.Module(new BatchNorm2d<double>(2, affine: false), GradCheck.Random(G, 3, 2, 2, 3));

    [Fact]
    public void DropoutWithFixedMaskMatchesFiniteDifferences()
    {
        var d = new Dropout<double>(0.3);
        var keep = new Tensor<double>(2, 3, 4, 4);
        for (int i = 0; i < keep.Numel; i++) keep.Data[i] = i % 3 == 0 ? 0 : 1;
        d.SetFixedMask(keep);
        GradCheck.Module(d, GradCheck.Random(G, 2, 3, 4, 4));
        // The mask is the keep pattern scaled by 1/(1 − p).
        Assert.Equal(0, d.Mask!.Data[0]);
        Assert.Equal(1 / 0.7, d.Mask!.Data[1], 15);
    }

    [Fact]
    public void Dropout2dWithFixedMaskMatchesFiniteDifferences()
    {
        var d = new Dropout2d<double>(0.5);
        d.SetFixedMask(new Tensor<double>([1, 0, 1, 1, 1, 0], 2, 3));
        var x = GradCheck.Random(G, 2, 3, 2, 2);
        var y = d.Forward(x);
        Assert.Equal(0, y.Data[4]);                     // channel (0, 1) dropped
        Assert.Equal(2 * x.Data[0], y.Data[0], 15);     // kept channels scaled by 1/(1 − 0.5)
        GradCheck.Module(d, x);
    }

    [Fact]
    public void MaxPoolBackwardMatchesFiniteDifferences() =>
        GradCheck.Module(new MaxPool2d<double>(2), GradCheck.Random(G, 2, 3, 5, 6));

    [Fact]
    public void AvgPoolBackwardMatchesFiniteDifferences() =>
        GradCheck.Module(new AdaptiveAvgPool2d<double>(1), GradCheck.Random(G, 2, 3, 3, 5));

    [Fact]
    public void LinearBackwardMatchesFiniteDifferences()
    {
        GradCheck.Module(new Linear<double>(5, 3), GradCheck.Random(G, 4, 5));
        GradCheck.Module(new Linear<double>(5, 3, bias: false), GradCheck.Random(G, 4, 5));
    }

    [Fact]
    public void ReluBackwardMatchesFiniteDifferences() =>
        GradCheck.Module(new ReLU<double>(), GradCheck.Random(G, 3, 2, 3, 5));

    [Fact]
    public void FlattenAndSequentialBackwardMatchFiniteDifferences() =>
        GradCheck.Module(new Sequential<double>(new Conv2d<double>(2, 3, 3), new ReLU<double>(), new Flatten<double>(), new Linear<double>(12, 4)),
            GradCheck.Random(G, 2, 2, 4, 4));

    [Fact]
    public void LogSoftmaxBackwardMatchesFiniteDifferences() =>
        GradCheck.Module(new LogSoftmax<double>(1), GradCheck.Random(G, 3, 5));

    [Fact]
    public void LogSoftmaxPlusNllLossGradientMatchesFiniteDifferences()
    {
        var net = new Sequential<double>(new Linear<double>(4, 5), new LogSoftmax<double>(1));
        var x = GradCheck.Random(G, 3, 4);
        int[] target = [2, 0, 4];
        GradCheck.Check(net, x, () => net.Backward(F.nll_loss(net.Forward(x), target).Grad),
            () => F.nll_loss(net.Forward(x), target).Value, 1e-7, int.MaxValue);
    }

    [Fact]
    public void CrossEntropyGradientMatchesFiniteDifferences()
    {
        var net = new Linear<double>(4, 5);
        var x = GradCheck.Random(G, 3, 4);
        int[] target = [1, 4, 0];
        GradCheck.Check(net, x, () => net.Backward(F.cross_entropy(net.Forward(x), target).Grad),
            () => F.cross_entropy(net.Forward(x), target).Value, 1e-7, int.MaxValue);
    }

    [Fact]
    public void CrossEntropyEqualsNllOfLogSoftmax()
    {
        var logits = GradCheck.Random(G, 4, 6);
        int[] target = [5, 0, 3, 3];
        var ce = F.cross_entropy(logits, target);
        var nll = F.nll_loss(F.log_softmax(logits), target);
        Assert.Equal(nll.Value, ce.Value, 12);
        // Hand check of one row: −log softmax(x)[t] = log Σ exp(x) − x[t].
        double lse = Math.Log(Enumerable.Range(0, 6).Sum(k => Math.Exp(logits.Data[k])));
        Assert.Equal(lse - logits.Data[5], -F.log_softmax(logits).Data[5], 12);
    }

    [Fact]
    public void WholeReferenceNetBackwardMatchesFiniteDifferences()
    {
        torch.manual_seed(3);
        var net = ModelZoo.Create<double>("reference", dropout: 0.2);
        net.InputGradient = true;
        // Fixed dropout masks so the loss is a deterministic function of the inputs and weights.
        var x = GradCheck.Random(G, 2, 1, 20, 20);
        net.Forward(x);
        foreach (var (_, m) in net.NamedModules())
            if (m is Dropout<double> d)
            {
                var keep = d.Mask!.Clone();
                for (int i = 0; i < keep.Numel; i++) keep.Data[i] = keep.Data[i] != 0 ? 1 : 0;
                d.SetFixedMask(keep);
            }
        int[] target = [3, 7];
        GradCheck.Check(net, x, () => net.Backward(F.nll_loss(net.Forward(x), target).Grad),
            () => F.nll_loss(net.Forward(x), target).Value, 1e-6, maxPerTensor: 12);
    }
}
