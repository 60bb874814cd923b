using Era.Data;
using Era.Engine.Models;

namespace Era.Engine.Training;

/// <summary>
/// A whole training run of a recipe on MNIST, for a notebook in a few lines:
/// <code>
///   var run = new TrainingRun(Recipe.For("course"), train, test, seed: 1);
///   run.OnBatch = p => ...;          // after every batch (a live display)
///   run.OnEpoch = e => ...;          // after every epoch (a curve)
///   run.Run();
///   run.History, run.Test!.Confusion, run.Test.Misclassified, run.Model
/// </code>
/// The constructor seeds <see cref="torch.default_generator"/> with <paramref name="seed"/> and builds, in this
/// order, the model (its weights), the loaders, SGD and OneCycleLR over epochs × batches; the generator then
/// drives shuffling, augmentation and dropout, so the same seed and thread count give bit-identical weights.
/// <paramref name="engine"/> builds another engine's trainer instead (Era.Torch's TorchTrainer.Factory): from the
/// recipe and the schedule's total steps, after the seeding.
/// </summary>
public sealed class TrainingRun
{
    public TrainingRun(Recipe recipe, TensorDataset train, TensorDataset test, long seed = 1, Func<Recipe, int, ITrainer>? engine = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        Recipe = recipe.Validate();
        Seed = seed;
        torch.manual_seed(seed);
        TrainLoader = recipe.CreateTrainLoader(train);   // (a loader draws nothing until its first epoch)
        TestLoader = recipe.CreateTestLoader(test);
        Trainer = (engine ?? Training.Trainer.ForRecipe)(recipe, recipe.Epochs * TrainLoader.Count);
        Parameters = Trainer.Parameters;
    }

    public Recipe Recipe { get; }
    public long Seed { get; }
    public long Parameters { get; }
    public DataLoader TrainLoader { get; }
    public DataLoader TestLoader { get; }
    public ITrainer Trainer { get; }

    /// <summary>The engine's model (an InvalidOperationException when the run trains on another engine).</summary>
    public MnistNet<float> Model => (Trainer as Trainer)?.Model as MnistNet<float>
        ?? throw new InvalidOperationException($"TrainingRun.Model: the run trains on {Trainer.Engine}; use Trainer");

    /// <summary>Called after every training batch.</summary>
    public Action<TrainingProgress>? OnBatch { get; set; }

    /// <summary>Called after every epoch, once it is in <see cref="History"/>.</summary>
    public Action<EpochResult>? OnEpoch { get; set; }

    /// <summary>The completed epochs.</summary>
    public IReadOnlyList<EpochResult> History => _history;

    private readonly List<EpochResult> _history = [];

    /// <summary>The test evaluation after the last completed epoch: confusion matrix and misclassified images.</summary>
    public Evaluation? Test { get; private set; }

    /// <summary>True when the last <see cref="Run"/> was cancelled before its last epoch.</summary>
    public bool Cancelled { get; private set; }

    /// <summary>The first epoch with the highest test accuracy.</summary>
    public EpochResult? Best => _history.Count == 0 ? null : _history.MaxBy(e => e.TestAccuracy);

    /// <summary>
    /// Trains the remaining epochs (all of them on a fresh run). Cancelling stops before the next batch and returns
    /// with <see cref="Cancelled"/> set; <see cref="History"/> holds the completed epochs, but the weights are those
    /// after the last completed step, part way into the next epoch. A diverged loss throws <see cref="TrainingDivergedException"/>.
    /// <paramref name="maxBatches"/> cuts every epoch short (a quick run).
    /// </summary>
    public TrainingRun Run(CancellationToken cancel = default, int? maxBatches = null)
    {
        Cancelled = false;
        try
        {
            for (int epoch = _history.Count + 1; epoch <= Recipe.Epochs; epoch++)
            {
                var (result, test) = TrainingLoop.Epoch(Trainer, TrainLoader, TestLoader, epoch, OnBatch, cancel, maxBatches);
                Test = test;
                _history.Add(result);
                OnEpoch?.Invoke(result);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Cancelled = true;
        }
        return this;
    }
}
