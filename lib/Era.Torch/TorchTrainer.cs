using System.Diagnostics;
using Era.Engine.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using DataLoader = Era.Data.DataLoader;
using EraTensor = Era.Engine.Tensor<float>;

namespace Era.Torch;

/// <summary>
/// The engine's trainer (Era.Engine.Training.Trainer) on TorchSharp, behind the same <see cref="ITrainer"/>: the same
/// recipe, data loader, epoch loop (<see cref="TrainingLoop"/>), progress callbacks, epoch results and checkpoints.
/// One step:
/// <code>
///   optimizer.zero_grad();
///   var output = model.forward(images);              // log-probabilities [N, 10]
///   var loss = functional.nll_loss(output, labels);  // mean negative log-likelihood
///   loss.backward();                                 // autograd fills every parameter's .grad
///   optimizer.step(); scheduler.step();
/// </code>
/// </summary>
public sealed class TorchTrainer : ITrainer
{
    public TorchTrainer(TorchMnistNet model, SGD optimizer, optim.lr_scheduler.LRScheduler? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        Model = model;
        Optimizer = optimizer;
        Scheduler = scheduler;
        Device = model.parameters().First().device;
    }

    /// <summary>
    /// The recipe's SGD (lr, momentum, weight decay) and, unless the recipe goes without, OneCycleLR up to its max lr
    /// over <paramref name="batchesPerEpoch"/> × recipe.Epochs steps (momentum cycled between 0.85 and 0.95).
    /// </summary>
    public static TorchTrainer ForRecipe(TorchMnistNet model, Recipe recipe, int batchesPerEpoch) =>
        ForSteps(model, recipe, recipe.Epochs * batchesPerEpoch);

    private static TorchTrainer ForSteps(TorchMnistNet model, Recipe recipe, int totalSteps)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(recipe);
        var optimizer = optim.SGD(model.parameters(), recipe.Lr, momentum: recipe.Momentum, weight_decay: recipe.WeightDecay);
        return new TorchTrainer(model, optimizer,
            recipe.Schedule ? optim.lr_scheduler.OneCycleLR(optimizer, recipe.MaxLr, totalSteps, cycle_momentum: recipe.Momentum > 0) : null);
    }

    /// <summary>
    /// For <see cref="TrainingRun"/> and the CLI: a fresh model of the recipe (its variant, dropout) on
    /// <paramref name="device"/>, weights from libtorch's generator (seed it first), with the recipe's optimizer and
    /// schedule over the given total steps.
    /// </summary>
    public static Func<Recipe, int, ITrainer> Factory(Device device) => (recipe, totalSteps) =>
        ForSteps(TorchModels.Create(recipe.Model, device, recipe.Dropout, recipe.BatchNorm, recipe.GlobalAvgPool), recipe, totalSteps);

    public TorchMnistNet Model { get; }
    public SGD Optimizer { get; }
    public optim.lr_scheduler.LRScheduler? Scheduler { get; }
    public Device Device { get; }

    /// <summary>Steps taken so far.</summary>
    public long Steps { get; private set; }

    /// <summary>"torchsharp (libtorch) on DEVICE".</summary>
    public string Engine => $"torchsharp (libtorch) on {Device}";

    public long Parameters => Model.ParameterCount;

    public void SetTraining(bool training) => Model.train(training);

    /// <summary><see cref="TorchCheckpoint.Save"/>: the engine's format, loadable by Era.Engine and PyTorch.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string> metadata) => TorchCheckpoint.Save(Model, path, metadata);

    /// <summary><see cref="TorchCheckpoint.Load"/>: names and shapes checked before libtorch sees a tensor.</summary>
    public void Load(string path) => TorchCheckpoint.Load(Model, path);

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
        TrainingDivergedException.ThrowIfDiverged(step, lr, value);
        int correct = (int)output.argmax(1).eq(y).sum().item<long>();
        loss.backward();
        Optimizer.step();
        Scheduler?.step();
        Steps = step;
        return new StepResult(step, value, correct, labels.Length, lr);
    }

    /// <summary>One pass over <paramref name="train"/> (its first <paramref name="maxBatches"/> batches when given), then (if given) an evaluation on <paramref name="test"/>.</summary>
    public EpochResult TrainEpoch(DataLoader train, DataLoader? test = null, int epoch = 1, int? maxBatches = null)
    {
        var (result, _) = TrainingLoop.Epoch(this, train, test, epoch, OnProgress, maxBatches: maxBatches);
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
    public static (double Loss, double Accuracy) Evaluate(TorchMnistNet model, DataLoader data)
    {
        var e = EvaluateDetailed(model, data);
        return (e.Loss, e.Accuracy);
    }

    public Evaluation EvaluateDetailed(DataLoader data) => EvaluateDetailed(Model, data);

    /// <summary>
    /// Loss, accuracy, confusion matrix and misclassified images in eval mode, from libtorch's log-probabilities with
    /// Era.Engine's own counting (<see cref="EvaluationTally"/>); restores the mode.
    /// </summary>
    public static Evaluation EvaluateDetailed(TorchMnistNet model, DataLoader data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        bool wasTraining = model.training;
        model.eval();
        var device = model.parameters().First().device;
        try
        {
            using var _ = no_grad();
            var tally = new EvaluationTally();
            foreach (var batch in data.Epoch())
            {
                model.CheckInput(batch.Images.Shape.Select(d => (long)d).ToArray());
                CheckLabels(batch.Labels, batch.Images.Shape[0], model.Architecture.Classes);
                using var scope = NewDisposeScope();
                var output = model.forward(TorchCheckpoint.FromEra(batch.Images, device));
                double loss = nn.functional.nll_loss(output, Labels(batch.Labels, device)).item<float>();
                tally.Add(TorchCheckpoint.ToEra(output), batch.Labels, loss);
            }
            return tally.Result();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Log-probabilities [N, 10] of Era images [N, 1, H, W], in eval mode, as an Era tensor.</summary>
    public static EraTensor LogProbabilities(TorchMnistNet model, EraTensor images)
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
    public static int[] Predict(TorchMnistNet model, EraTensor images)
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
