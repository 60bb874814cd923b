using Era.Engine;
using Era.Engine.Checkpoints;
using Era.Engine.Models;
using Era.Engine.Optim;
using Era.Engine.Training;
using TorchSharp;
using EngineF = Era.Engine.F;

namespace Era.Torch.Tests;

/// <summary>
/// TorchSharp against Era.Engine on the same weights: the same state_dict names and parameter counts, log-probabilities
/// within 1e-5 in eval mode, one training step's gradients within 1e-4 in float32 and 1e-9 in float64 (and the SGD
/// update and BatchNorm statistics after it), and the OneCycle schedule step by step.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ParityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-torch-parity-").FullName;

    public ParityTests() => TorchNative.EnsureLoaded();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Models => new() { "reference", "course", "tiny" };

    /// <summary>An engine model with perturbed weights and statistics, and a TorchSharp model loaded from its checkpoint.</summary>
    private (Module<float> Engine, TorchMnistNet Torch) Pair(string name, double dropout = 0.05)
    {
        var a = Architecture.Get(name);
        Era.Engine.torch.manual_seed(5);
        var engine = new MnistNet<float>(a, dropout);
        Fixtures.Perturb(engine, 11);
        string path = Path.Combine(_dir, name + ".safetensors");
        Safetensors.Save(engine, path);
        var net = new TorchMnistNet(a, dropout);
        TorchCheckpoint.Load(net, path);
        return (engine, net);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void SameStateDictNamesShapesAndParameterCounts(string name)
    {
        var a = Architecture.Get(name);
        var engine = new MnistNet<float>(a);
        var net = new TorchMnistNet(a);
        Assert.Equal(engine.state_dict().Select(s => (s.Name, string.Join(",", s.Tensor.Shape))),
            net.StateDict().Select(s => (s.Name, string.Join(",", s.Tensor.shape))));
        long expected = name switch { "reference" => 12_098, "course" => 14_656, _ => 7_546 };
        Assert.Equal(expected, a.Parameters);
        Assert.Equal(expected, net.ParameterCount);
        Assert.Equal(expected, engine.parameters().Sum(p => (long)p.Numel));
        Assert.Contains(net.StateDict(), s => s.Name == "f.0.1.num_batches_tracked");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LogProbabilitiesMatchTheEngineInEvalMode(string name)
    {
        var (engine, net) = Pair(name);
        var (x, _) = Fixtures.Batch(16, 3);
        engine.eval();
        float[] expected = engine.Forward(x).Data;
        float[] actual = TorchTrainer.LogProbabilities(net, x).Data;
        double diff = Fixtures.MaxAbsDiff(expected, actual);
        Assert.True(diff < 1e-5, $"{name}: max |Δ log p| = {diff:E2}");
        Assert.True(expected.Max() < 0 && expected.Min() > -30); // real log-probabilities, not all equal
        Assert.Equal(expected.Chunk(10).Select(r => Array.IndexOf(r, r.Max())), TorchTrainer.Predict(net, x));
    }

    /// <summary>
    /// The smallest |input| of any ReLU of <paramref name="net64"/> (a float64 twin, in train mode) on
    /// <paramref name="images"/>: how far the batch stays from the kink.
    /// </summary>
    private static double KinkMargin(TorchMnistNet net64, Tensor<float> images)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var _ = TorchSharp.torch.no_grad();
        var h = TorchSharp.torch.tensor(images.Data.Select(v => (double)v).ToArray(), images.Shape.Select(d => (long)d).ToArray());
        double margin = double.PositiveInfinity;
        var features = (TorchSharp.Modules.Sequential)net64.named_children().First(c => c.name == "f").module;
        foreach (var (_, layer) in features.named_children())
        {
            var parts = layer is TorchSharp.Modules.Sequential block ? block.named_children().Select(c => c.module) : [layer];
            foreach (var part in parts)
            {
                if (part is TorchSharp.Modules.ReLU) margin = Math.Min(margin, h.abs().min().item<double>());
                h = ((TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>)part).forward(h);
            }
        }
        return margin;
    }

    /// <summary>A TorchSharp tensor's values as doubles.</summary>
    private static double[] Values(TorchSharp.torch.Tensor t) => t.detach().cpu().to(TorchSharp.torch.ScalarType.Float64).data<double>().ToArray();

    private static double MaxAbsDiff(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    /// <summary>
    /// One SGD step (momentum 0.9) in float64 on both sides, so that the comparison tests the mathematics, not float32
    /// rounding: gradients, update and BatchNorm statistics within 1e-9. The float32 step is checked below.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void OneTrainingStepMatchesGradientsUpdateAndStatistics(string name)
    {
        var a = Architecture.Get(name);
        Era.Engine.torch.manual_seed(5);
        var engine = new MnistNet<double>(a, dropout: 0); // dropout draws differ; p = 0 is the identity in both
        string path = Path.Combine(_dir, name + "64.safetensors");
        Safetensors.Save(engine, path); // F64
        var net = new TorchMnistNet(a, dropout: 0);
        net.to(TorchSharp.torch.ScalarType.Float64);
        TorchCheckpoint.Load(net, path);

        var (xf, y) = Fixtures.Batch(32, 4);
        var x = new Tensor<double>(xf.Data.Select(v => (double)v).ToArray(), xf.Shape);
        engine.train();
        var engineOpt = new SGD<double>(engine.parameters(), lr: 0.05, momentum: 0.9);
        engineOpt.zero_grad();
        var loss = EngineF.nll_loss(engine.Forward(x), y);
        engine.Backward(loss.Grad);
        var engineGrads = engine.NamedParameters().ToDictionary(p => p.Name, p => (double[])p.Parameter.Grad.Data.Clone());
        engineOpt.step();

        net.train();
        var opt = TorchTrainer.ForRecipe(net, Recipe.For("reference") with { Schedule = false }, 1).Optimizer;   // SGD lr 0.05, momentum 0.9
        opt.zero_grad();
        var output = net.forward(TorchSharp.torch.tensor(x.Data, [32, 1, 28, 28]));
        var torchLoss = TorchSharp.torch.nn.functional.nll_loss(output, TorchSharp.torch.tensor(y.Select(l => (long)l).ToArray()));
        torchLoss.backward();
        Assert.Equal(loss.Value, torchLoss.item<double>(), 10);
        foreach (var (pname, p) in net.named_parameters())
        {
            double diff = MaxAbsDiff(engineGrads[pname], Values(p.grad!));
            Assert.True(diff < 1e-4, $"{name} {pname}: max |Δ grad| = {diff:E2}");
            Assert.True(diff < 1e-9, $"{name} {pname}: max |Δ grad| = {diff:E2} (float64 on both sides)");
        }
        Assert.True(engineGrads.Values.Max(g => g.Max(Math.Abs)) > 1e-3); // the gradients are not all zero
        opt.step();

        var engineState = engine.state_dict().ToDictionary(s => s.Name, s => s.Tensor.Data);
        foreach (var (sname, t) in net.StateDict())
        {
            double diff = MaxAbsDiff(engineState[sname], Values(t));
            Assert.True(diff < 1e-9, $"{name} {sname} after the step: max |Δ| = {diff:E2}");
        }
        Assert.Equal(1, engineState["f.0.1.num_batches_tracked"][0]);
    }

    /// <summary>
    /// The same step in float32, the precision that trains: every gradient within 1e-4 of the engine's. The batch is
    /// one whose pre-activations all stay clear of ReLU's kink (<see cref="KinkMargin"/> above 2e-6): where one lies within float32
    /// rounding of 0 (measured 2026-12-02: −3.0e-7 in float64, +1.9e-7 in libtorch's float32, one element of the
    /// reference model's last block) the two engines may round it to opposite sides, and every gradient below it
    /// differs by ~2e-3 though both are right — that, not a wrong kernel, was the 1.9e-3 first seen on 2026-12-01.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void OneFloat32TrainingStepMatchesTheEnginesGradients(string name)
    {
        var (engine, net) = Pair(name, dropout: 0);
        var net64 = new TorchMnistNet(net.Architecture, dropout: 0);   // the same weights (Pair's file), in float64
        net64.to(TorchSharp.torch.ScalarType.Float64);
        TorchCheckpoint.Load(net64, Path.Combine(_dir, name + ".safetensors"));
        net64.train();
        // 2e-6: four times the largest float32 error seen near 0 (4.9e-7); about 4 batches in 10 keep that margin.
        int seed = Enumerable.Range(4, 40).FirstOrDefault(s => KinkMargin(net64, Fixtures.Batch(32, s).Images) > 2e-6);
        Assert.True(seed != 0, $"{name}: none of the batches 4..43 keeps its pre-activations 2e-6 clear of ReLU's kink");
        var (x, y) = Fixtures.Batch(32, seed);
        engine.train();
        foreach (var p in engine.parameters()) p.Grad.Zero();
        var loss = EngineF.nll_loss(engine.Forward(x), y);
        engine.Backward(loss.Grad);
        var engineGrads = engine.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad.Data.Select(v => (double)v).ToArray());

        net.train();
        net.zero_grad();
        var output = net.forward(TorchSharp.torch.tensor(x.Data, [32, 1, 28, 28]));
        var torchLoss = TorchSharp.torch.nn.functional.nll_loss(output, TorchSharp.torch.tensor(y.Select(l => (long)l).ToArray()));
        torchLoss.backward();
        Assert.Equal(loss.Value, torchLoss.item<float>(), 4);
        foreach (var (pname, p) in net.named_parameters())
        {
            double diff = MaxAbsDiff(engineGrads[pname], Values(p.grad!));
            Assert.True(diff < 1e-4, $"{name} {pname}: max |Δ grad| = {diff:E2} in float32");
        }
        Assert.True(engineGrads.Values.Max(g => g.Max(Math.Abs)) > 1e-3); // the gradients are not all zero
    }

    [Theory]
    [InlineData(100, 0.1)]
    [InlineData(7, 0.2)]
    public void OneCycleScheduleMatchesStepByStep(int steps, double maxLr)
    {
        var a = Architecture.Tiny;
        var recipe = Recipe.For("tiny") with { Epochs = 1, MaxLr = maxLr };
        var net = new TorchMnistNet(a);
        var trainer = TorchTrainer.ForRecipe(net, recipe, steps);
        var opt = trainer.Optimizer;
        var scheduler = trainer.Scheduler!;
        var engineOpt = new SGD<float>(new MnistNet<float>(a).parameters(), lr: recipe.Lr, momentum: recipe.Momentum);
        var engineScheduler = new OneCycleLR<float>(engineOpt, max_lr: maxLr, total_steps: steps);
        var lrs = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var group = opt.ParamGroups.First();
            Assert.Equal(engineOpt.LearningRate, group.LearningRate, 12);
            Assert.Equal(engineOpt.Momentum, ((TorchSharp.Modules.SGD.ParamGroup)group).Momentum, 12);
            lrs.Add(group.LearningRate);
            scheduler.step();
            engineScheduler.step();
        }
        Assert.Equal(maxLr / 25, lrs[0], 12);
        Assert.InRange(lrs.Max(), 0.95 * maxLr, maxLr); // the peak falls between two steps when pct_start·steps is not whole
    }
}
