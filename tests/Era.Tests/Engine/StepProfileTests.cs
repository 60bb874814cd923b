using Era.Data;
using Era.Engine;
using Era.Engine.Models;
using Era.Engine.Optim;
using Era.Engine.Training;

namespace Era.Tests.Engine;

/// <summary>StepProfile: the same step as Trainer.Step (bit-identical weights), timed module by module.</summary>
[Collection(EngineCollection.Name)] // seeds the global generator / sets the thread count
public class StepProfileTests
{
    /// <summary>A ReferenceNet with SGD (momentum, Nesterov) and OneCycleLR, trained from seed 5 on random images.</summary>
    private static (Trainer Trainer, MnistNet<float> Net) Fresh()
    {
        torch.manual_seed(5);
        var net = ModelZoo.Create("reference", dropout: 0.1);
        var opt = new SGD<float>(net.parameters(), lr: 0.05, momentum: 0.9, nesterov: true);
        return (new Trainer(net, opt, new OneCycleLR<float>(opt, max_lr: 0.1, total_steps: 20)), net);
    }

    private static (Tensor<float> X, int[] Y) Batch(int seed)
    {
        var x = KernelTests.RandomFloat(new Generator((ulong)seed), 16, 1, 28, 28);
        return (x, Enumerable.Range(0, 16).Select(i => (i + seed) % 10).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ProfiledStepsGiveBitIdenticalWeightsToTrainerSteps(int threads)
    {
        try
        {
            torch.set_num_threads(threads);
            var (plain, plainNet) = Fresh();
            var plainResults = Enumerable.Range(0, 4).Select(s => { var (x, y) = Batch(s); return plain.Step(x, y); }).ToArray();

            var (profiled, profiledNet) = Fresh();
            var profile = new StepProfile(profiled);
            var (x0, y0) = Batch(0);
            var results = new List<StepResult> { profiled.Step(x0, y0) };    // a plain step, then profiled ones from its state
            for (int s = 1; s < 4; s++) { var (x, y) = Batch(s); results.Add(profile.Step(x, y)); }

            Assert.Equal(plainResults, results);                              // loss, accuracy, step number, learning rate
            Assert.Equal(plain.Steps, profiled.Steps);
            Assert.Equal(plain.Optimizer.LearningRate, profiled.Optimizer.LearningRate);
            var a = plainNet.state_dict().ToArray();
            var b = profiledNet.state_dict().ToArray();
            Assert.Equal(a.Select(e => e.Name), b.Select(e => e.Name));
            for (int i = 0; i < a.Length; i++) Assert.Equal(a[i].Tensor.Data, b[i].Tensor.Data);   // bit for bit, running statistics too
            Assert.Equal(3, profile.Steps);
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }

    [Fact]
    public void RowsFollowTheModelAndAddUpToTheTotal()
    {
        var (trainer, net) = Fresh();
        var g = new Generator(9);
        var images = KernelTests.RandomFloat(g, 40, 1, 28, 28);
        var data = new TensorDataset(images, Enumerable.Range(0, 40).Select(i => i % 10).ToArray());
        var profile = new StepProfile(trainer);
        profile.Run(new DataLoader(data, 16, shuffle: true, drop_last: true, generator: g), steps: 5);   // 2 batches an epoch: 3 epochs
        Assert.Equal(5, profile.Steps);
        Assert.Equal(5, profile.Batches);
        Assert.Equal(5, trainer.Steps);
        var rows = profile.Rows();
        var top = rows.Where(r => !r.Part).ToArray();
        Assert.Equal([.. Enumerable.Range(0, net.f.Count).Select(i => $"f.{i}"), "flatten", "fc", "log_softmax", "loss", "optimizer", "data"],
            top.Select(r => r.Name));
        Assert.Equal(["f.0", "f.0.conv", "f.0.bn_relu_dropout", "f.1"], rows.Take(4).Select(r => r.Name));
        Assert.Equal(profile.TotalMs, top.Sum(r => r.Ms), 6);
        Assert.All(rows, r => Assert.True(r.ForwardMs >= 0 && r.BackwardMs >= 0, r.Name));
        Assert.True(top[2].Ms > 0);
        profile.Reset();
        Assert.Equal(0, profile.TotalMs);
    }

    [Fact]
    public void ProfiledStepAllocatesNothingBeyondTheModel()
    {
        var (trainer, net) = Fresh();
        var profile = new StepProfile(trainer);
        var (x, y) = Batch(1);
        for (int i = 0; i < 3; i++) profile.Step(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        profile.Step(x, y);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.NotNull(net);
    }

    [Fact]
    public void HooksSeeEveryChildRunInOrderAndGoWhenDisposed()
    {
        var (trainer, net) = Fresh();
        var seen = new List<string>();
        var handles = new List<IDisposable>();
        foreach (var (name, child) in net.f.NamedChildren().Take(2))
        {
            handles.Add(child.register_forward_pre_hook(_ => seen.Add("fwd " + name)));
            handles.Add(child.register_full_backward_hook(_ => seen.Add("bwd " + name)));
        }
        var block = (Era.Engine.Layers.ConvBnReluDropout<float>)net.f[0];
        handles.Add(block.Conv.register_forward_hook(m => seen.Add(m is Era.Engine.Layers.Conv2d<float> ? "conv" : "?")));
        var (x, y) = Batch(2);
        trainer.Step(x, y);
        Assert.Equal(["fwd 0", "conv", "fwd 1", "bwd 1", "bwd 0"], seen);
        foreach (var h in handles) h.Dispose();
        trainer.Step(x, y);
        Assert.Equal(5, seen.Count);
    }
}
