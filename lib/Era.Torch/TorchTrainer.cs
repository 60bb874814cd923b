using System.Diagnostics;
using Era.Engine.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using DataLoader = Era.Data.DataLoader;
using EraTensor = Era.Engine.Tensor<float>;

namespace Era.Torch;

/// <summary>
/// The course's training recipe, as shared/anchors/pytorch_mnist.py and `era train`: batches of 128, SGD with
/// momentum 0.9 (lr 0.05, replaced by the schedule), OneCycleLR up to max_lr 0.1 over epochs × batches (momentum
/// cycled between 0.85 and 0.95), seed 1.
/// </summary>
public sealed record Recipe(int Epochs = 15, int BatchSize = 128, double Lr = 0.05, double MaxLr = 0.1, double Momentum = 0.9,
    double WeightDecay = 0, long Seed = 1)
{
    /// <summary>The optimizer of the recipe for <paramref name="model"/>'s parameters.</summary>
    public SGD Optimizer(CourseNet model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return optim.SGD(model.parameters(), Lr, momentum: Momentum, weight_decay: WeightDecay);
    }

    /// <summary>OneCycleLR over <paramref name="totalSteps"/> optimizer steps (epochs × batches per epoch).</summary>
    public optim.lr_scheduler.LRScheduler Scheduler(SGD optimizer, int totalSteps) =>
        optim.lr_scheduler.OneCycleLR(optimizer, MaxLr, totalSteps, cycle_momentum: Momentum > 0);
}

/// <summary>
/// The engine's training loop (Era.Engine.Training.Trainer) on TorchSharp: the same data loader (so the same batches
/// in the same order for the same seed), the same step, the same progress callbacks and epoch results. One step:
/// <code>
///   optimizer.zero_grad();
///   var output = model.forward(images);              // log-probabilities [N, 10]
///   var loss = functional.nll_loss(output, labels);  // mean negative log-likelihood
///   loss.backward();                                 // autograd fills every parameter's .grad
///   optimizer.step(); scheduler.step();
/// </code>
/// </summary>
public sealed class TorchTrainer
{
    public TorchTrainer(CourseNet model, SGD optimizer, optim.lr_scheduler.LRScheduler? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        Model = model;
        Optimizer = optimizer;
        Scheduler = scheduler;
        Device = model.parameters().First().device;
    }

    /// <summary>The recipe's optimizer and a OneCycle schedule over <paramref name="batchesPerEpoch"/> × recipe.Epochs steps.</summary>
    public static TorchTrainer ForRecipe(CourseNet model, Recipe recipe, int batchesPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var optimizer = recipe.Optimizer(model);
        return new TorchTrainer(model, optimizer, recipe.Scheduler(optimizer, recipe.Epochs * batchesPerEpoch));
    }

    public CourseNet Model { get; }
    public SGD Optimizer { get; }
    public optim.lr_scheduler.LRScheduler? Scheduler { get; }
    public Device Device { get; }

    /// <summary>Steps taken so far.</summary>
    public long Steps { get; private set; }

    /// <summary>The current learning rate (of the first parameter group).</summary>
    public double LearningRate => Optimizer.ParamGroups.First().LearningRate;

    /// <summary>Called after every training batch.</summary>
    public Action<TrainingProgress>? OnProgress { get; set; }

    /// <summary>Called after every epoch.</summary>
    public Action<EpochResult>? OnEpoch { get; set; }

    /// <summary>One optimization step on one batch of Era images [N, 1, H, W] and labels (the model should be in train mode).</summary>
    public StepResult Step(EraTensor images, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        Model.CheckInput(images.Shape.Select(d => (long)d).ToArray());
        CheckLabels(labels, images.Shape[0], Model.Architecture.Classes);
        long step = Steps + 1;
        double lr = LearningRate;
        using var scope = NewDisposeScope(); // frees this step's tensors (images, activations, loss) at the end
        var x = TorchCheckpoint.FromEra(images, Device);
        var y = Labels(labels);
        Optimizer.zero_grad();
        var output = Model.forward(x);
        var loss = nn.functional.nll_loss(output, y);
        double value = loss.item<float>();
        if (!double.IsFinite(value)) throw new TrainingDivergedException(step, lr, value);
        int correct = (int)output.argmax(1).eq(y).sum().item<long>();
        loss.backward();
        Optimizer.step();
        Scheduler?.step();
        Steps = step;
        return new StepResult(step, value, correct, labels.Length, lr);
    }

    /// <summary>One pass over <paramref name="train"/>, then (if given) an evaluation on <paramref name="test"/>.</summary>
    public EpochResult TrainEpoch(DataLoader train, DataLoader? test = null, int epoch = 1, int? maxBatches = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        Model.train();
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        long correct = 0, seen = 0;
        int batches = Math.Min(train.Count, maxBatches ?? int.MaxValue);
        foreach (var batch in train.Epoch())
        {
            if (batch.Index >= batches) break;
            var r = Step(batch.Images, batch.Labels);
            lossSum += r.Loss * r.Count;
            correct += r.Correct;
            seen += r.Count;
            OnProgress?.Invoke(new TrainingProgress(epoch, batch.Index + 1, batches, r.Step, r.Loss, r.LearningRate,
                lossSum / seen, (double)correct / seen));
        }
        var trainTime = clock.Elapsed;
        clock.Restart();
        (double Loss, double Accuracy)? eval = test is null ? null : Evaluate(Model, test);
        var result = new EpochResult(epoch, seen == 0 ? double.NaN : lossSum / seen, seen == 0 ? double.NaN : (double)correct / seen,
            eval?.Loss, eval?.Accuracy, trainTime, clock.Elapsed);
        OnEpoch?.Invoke(result);
        return result;
    }

    /// <summary>Several epochs; returns each epoch's numbers. <paramref name="maxBatches"/> cuts each epoch short (a quick run).</summary>
    public IReadOnlyList<EpochResult> Fit(DataLoader train, DataLoader? test, int epochs, int? maxBatches = null)
    {
        var results = new List<EpochResult>();
        for (int e = 1; e <= epochs; e++) results.Add(TrainEpoch(train, test, e, maxBatches));
        return results;
    }

    /// <summary>Mean loss and accuracy in eval mode (running BN statistics, no dropout, no gradients); restores the mode.</summary>
    public static (double Loss, double Accuracy) Evaluate(CourseNet model, DataLoader data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        bool wasTraining = model.training;
        model.eval();
        var device = model.parameters().First().device;
        try
        {
            using var _ = no_grad();
            double lossSum = 0;
            long correct = 0, seen = 0;
            foreach (var batch in data.Epoch())
            {
                model.CheckInput(batch.Images.Shape.Select(d => (long)d).ToArray());
                CheckLabels(batch.Labels, batch.Images.Shape[0], model.Architecture.Classes);
                using var scope = NewDisposeScope();
                var y = Labels(batch.Labels, device);
                var output = model.forward(TorchCheckpoint.FromEra(batch.Images, device));
                lossSum += nn.functional.nll_loss(output, y).item<float>() * (double)batch.Count;
                correct += output.argmax(1).eq(y).sum().item<long>();
                seen += batch.Count;
            }
            return (seen == 0 ? double.NaN : lossSum / seen, seen == 0 ? double.NaN : (double)correct / seen);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Log-probabilities [N, 10] of Era images [N, 1, H, W], in eval mode, as an Era tensor.</summary>
    public static EraTensor LogProbabilities(CourseNet model, EraTensor images)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        model.CheckInput(images.Shape.Select(d => (long)d).ToArray());
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            return TorchCheckpoint.ToEra(model.forward(TorchCheckpoint.FromEra(images, model.parameters().First().device)));
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The predicted digit of each image (the largest log-probability), in eval mode.</summary>
    public static int[] Predict(CourseNet model, EraTensor images)
    {
        var logp = LogProbabilities(model, images);
        int n = logp.Shape[0], c = logp.Shape[1];
        var result = new int[n];
        for (int i = 0; i < n; i++)
        {
            var row = logp.Data.AsSpan(i * c, c);
            for (int k = 1; k < c; k++) if (row[k] > row[result[i]]) result[i] = k;
        }
        return result;
    }

    /// <summary>As the images, checked before libtorch sees them: nll_loss with a label out of range is a c10 error.</summary>
    private static void CheckLabels(int[] labels, int images, int classes)
    {
        if (labels.Length != images) throw new ArgumentException($"{labels.Length} labels for {images} images");
        foreach (int l in labels)
            if (l < 0 || l >= classes) throw new ArgumentException($"label {l} is not a class (0 to {classes - 1})");
    }

    private Tensor Labels(int[] labels) => Labels(labels, Device);

    private static Tensor Labels(int[] labels, Device device)
    {
        var y = tensor(labels.Select(l => (long)l).ToArray());
        return device.type == DeviceType.CPU ? y : y.to(device);
    }
}
