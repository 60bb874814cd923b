using Era.Data;
using Era.Engine;
using Era.Engine.Layers;
using Era.Engine.Models;
using Era.Engine.Optim;
using Era.Engine.Training;

namespace Era.Tests.Engine;

[Collection(EngineCollection.Name)] // seeds the global generator / sets the thread count
public class TrainingTests
{
    /// <summary>A tiny CNN for 8×8 images: conv 3×3 1→4, BN, ReLU, max-pool 2, flatten, linear 36→10, log-softmax.</summary>
    internal static Sequential<float> TinyCnn() => new(
        new Conv2d<float>(1, 4, 3), new BatchNorm2d<float>(4), new ReLU<float>(), new MaxPool2d<float>(2),
        new Flatten<float>(), new Linear<float>(36, 10), new LogSoftmax<float>(1));

    /// <summary>n random 8×8 images (uniform in [−1, 1), from the given generator) with labels i mod 10.</summary>
    internal static TensorDataset RandomImages(int n, Generator g)
    {
        var x = new float[n * 64];
        for (int i = 0; i < x.Length; i++) x[i] = (float)g.Uniform(-1, 1);
        return new TensorDataset(new Tensor<float>(x, n, 1, 8, 8), Enumerable.Range(0, n).Select(i => i % 10).ToArray());
    }

    [Fact]
    public void CountCorrectUsesTheFirstMaximum()
    {
        var output = new Tensor<float>([0.1f, 0.7f, 0.2f, /**/ 0.5f, 0.5f, 0.0f, /**/ 0.0f, 0.0f, 1.0f], 3, 3);
        Assert.Equal(2, Trainer.CountCorrect(output, [1, 0, 1]) + Trainer.CountCorrect(output, [0, 1, 0]));
        Assert.Equal(3, Trainer.CountCorrect(output, [1, 0, 2]));
    }

    [Fact]
    public void HugeLearningRateStopsWithAMessageNamingStepAndRate()
    {
        torch.manual_seed(0);
        var model = TinyCnn();
        var data = RandomImages(16, new Generator(1));
        var trainer = new Trainer(model, new SGD<float>(model.parameters(), lr: 1e30));
        var e = Assert.Throws<TrainingDivergedException>(() =>
        {
            for (int i = 0; i < 50; i++) trainer.Step(data.Images, data.Labels);
        });
        Assert.Matches(@"^training diverged at step \d+: the loss is (NaN|∞|-∞|Infinity|[0-9.]+E\+\d+) \(learning rate 1E\+30\)", e.Message);
        Assert.Equal(trainer.Steps + 1, e.Step);
        Assert.Equal(1e30, e.LearningRate);
    }

    [Theory]
    [InlineData(2.302585, false)]                // a uniform guess over ten classes: ln 10
    [InlineData(TrainingDivergedException.MaxLoss, false)]
    [InlineData(1000.5, true)]                   // finite, but no run comes back from it
    [InlineData(3.2e16, true)]                   // what --max-lr 1e3 reached without a word
    [InlineData(double.PositiveInfinity, true)]
    [InlineData(double.NaN, true)]
    public void ALossAboveTheBoundIsDivergenceNotOnlyNaN(double loss, bool diverged)
    {
        var e = Record.Exception(() => TrainingDivergedException.ThrowIfDiverged(7, 0.1, loss));
        Assert.Equal(diverged, e is TrainingDivergedException);
    }

    [Fact]
    public void EpochReportsProgressAndEvaluationRestoresTrainMode()
    {
        torch.manual_seed(0);
        var model = TinyCnn();
        var g = new Generator(2);
        var train = new DataLoader(RandomImages(40, g), batch_size: 16, shuffle: true, generator: g);
        var test = new DataLoader(RandomImages(20, g), batch_size: 16);
        var opt = new SGD<float>(model.parameters(), lr: 0.05, momentum: 0.9);
        var trainer = new Trainer(model, opt, new OneCycleLR<float>(opt, max_lr: 0.1, total_steps: 6));
        var progress = new List<TrainingProgress>();
        trainer.OnProgress = progress.Add;
        var results = trainer.Fit(train, test, epochs: 2);
        Assert.Equal([1, 2, 3, 1, 2, 3], progress.Select(p => p.Batch));
        Assert.Equal([1L, 2, 3, 4, 5, 6], progress.Select(p => p.Step));
        Assert.Equal(0.004, progress[0].LearningRate, 12); // OneCycle starts at max_lr / 25
        Assert.Equal(2, results.Count);
        Assert.All(results, r => Assert.True(r.TestAccuracy is >= 0 and <= 1 && double.IsFinite(r.TrainLoss)));
        // the epoch's mean loss weights batches by size: 16, 16, 8
        var p = progress.Take(3).ToArray();
        Assert.Equal((p[0].Loss * 16 + p[1].Loss * 16 + p[2].Loss * 8) / 40, results[0].TrainLoss, 9);
        Assert.True(model.Training);
    }

    [Fact]
    public void TrainingStepAllocatesNothingBeyondTheModel()
    {
        // Trainer, optimizer, scheduler and loss add no allocation to the model's own forward/backward.
        torch.manual_seed(0);
        var net = ModelZoo.Create("reference");
        var opt = new SGD<float>(net.parameters(), lr: 0.05, momentum: 0.9, nesterov: true);
        var trainer = new Trainer(net, opt, new OneCycleLR<float>(opt, max_lr: 0.1, total_steps: 100));
        var x = new Tensor<float>(16, 1, 28, 28);
        int[] y = new int[16];
        for (int i = 0; i < 3; i++) trainer.Step(x, y);
        long modelOnly = Measure(() =>
        {
            var output = net.Forward(x);         // the model's own buffer, no copy
            net.Backward(output); // any gradient of the right shape
        });
        long step = Measure(() => trainer.Step(x, y));
        Assert.Equal(modelOnly, step); // zero_grad, loss, accuracy, SGD and OneCycle steps: 0 bytes
    }

    /// <summary>Bytes allocated by 10 calls, the least of 3 rounds (one-time effects such as re-JIT do not count).</summary>
    private static long Measure(Action action)
    {
        long least = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            action();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
