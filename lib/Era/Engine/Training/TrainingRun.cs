using System.Globalization;
using System.Text;
using System.Text.Json;
using Era.Data;
using Era.Engine.Models;
using Era.Engine.Optim;
using Era.IO;

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
/// </summary>
public sealed class TrainingRun
{
    public TrainingRun(Recipe recipe, TensorDataset train, TensorDataset test, long seed = 1)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        Recipe = recipe.Validate();
        Seed = seed;
        torch.manual_seed(seed);
        Model = recipe.CreateModel();
        Parameters = Model.parameters().Sum(p => (long)p.Numel);
        TrainLoader = recipe.CreateTrainLoader(train);
        TestLoader = recipe.CreateTestLoader(test);
        Optimizer = recipe.CreateOptimizer(Model);
        Scheduler = recipe.CreateScheduler(Optimizer, recipe.Epochs * TrainLoader.Count);
        Trainer = new Trainer(Model, Optimizer, Scheduler);
    }

    public Recipe Recipe { get; }
    public long Seed { get; }
    public MnistNet<float> Model { get; }
    public long Parameters { get; }
    public DataLoader TrainLoader { get; }
    public DataLoader TestLoader { get; }
    public SGD<float> Optimizer { get; }
    /// <summary>The 1cycle schedule, or null when the recipe goes without (<see cref="Recipe.Schedule"/>).</summary>
    public OneCycleLR<float>? Scheduler { get; }
    public Trainer Trainer { get; }

    /// <summary>Called after every training batch.</summary>
    public Action<TrainingProgress>? OnBatch { get; set; }

    /// <summary>Called after every epoch, once it is in <see cref="History"/>.</summary>
    public Action<EpochResult>? OnEpoch { get; set; }

    /// <summary>The completed epochs.</summary>
    public IReadOnlyList<EpochResult> History => _history;

    private readonly List<EpochResult> _history = [];

    /// <summary>The test evaluation after the last completed epoch: confusion matrix and misclassified images.</summary>
    public Evaluation? Test => Trainer.LastEvaluation;

    /// <summary>True when the last <see cref="Run"/> was cancelled before its last epoch.</summary>
    public bool Cancelled { get; private set; }

    /// <summary>The first epoch with the highest test accuracy.</summary>
    public EpochResult? Best => _history.Count == 0 ? null : _history.MaxBy(e => e.TestAccuracy);

    /// <summary>
    /// Trains the remaining epochs (all of them on a fresh run). Cancelling stops before the next batch and returns
    /// with <see cref="Cancelled"/> set; <see cref="History"/> holds the completed epochs, but the weights are those
    /// after the last completed step, part way into the next epoch. A diverged loss throws <see cref="TrainingDivergedException"/>.
    /// </summary>
    public TrainingRun Run(CancellationToken cancel = default)
    {
        Cancelled = false;
        Trainer.OnProgress = OnBatch;
        try
        {
            for (int epoch = _history.Count + 1; epoch <= Recipe.Epochs; epoch++)
            {
                var result = Trainer.TrainEpoch(TrainLoader, TestLoader, epoch, cancel);
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

    /// <summary>
    /// The run as JSON: recipe, seed, threads, per-epoch history (accuracies in percent, times in seconds), best and
    /// final accuracy, and the last test evaluation's confusion matrix (row = label) and misclassified images.
    /// </summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", Recipe.Model);
            w.WriteNumber("parameters", Parameters);
            w.WriteNumber("epochs", Recipe.Epochs);
            w.WriteNumber("epochs_completed", _history.Count);
            w.WriteBoolean("cancelled", Cancelled);
            w.WriteNumber("batch_size", Recipe.BatchSize);
            w.WriteString("optimizer", Recipe.OptimizerName);
            w.WriteString("schedule", Recipe.Schedule ? Recipe.ScheduleName : "constant");
            w.WriteStartArray("without");
            foreach (var part in Recipe.Missing) w.WriteStringValue(part);
            w.WriteEndArray();
            w.WriteNumber("lr", Recipe.Lr);
            w.WriteNumber("max_lr", Recipe.MaxLr);
            w.WriteNumber("momentum", Recipe.Momentum);
            w.WriteNumber("weight_decay", Recipe.WeightDecay);
            w.WriteNumber("dropout", Recipe.Dropout);
            if (Recipe.Augmentation is { } a)
            {
                w.WriteStartObject("augmentation");
                w.WriteNumber("max_degrees", a.MaxDegrees);
                w.WriteNumber("max_shift", a.MaxShift);
                w.WriteEndObject();
            }
            else w.WriteNull("augmentation");
            w.WriteNumber("seed", Seed);
            w.WriteNumber("threads", torch.get_num_threads());
            w.WriteNumber("train_images", TrainLoader.Dataset.Count);
            w.WriteNumber("test_images", TestLoader.Dataset.Count);
            w.WriteStartArray("history");
            foreach (var e in _history)
            {
                w.WriteStartObject();
                w.WriteNumber("epoch", e.Epoch);
                Number(w, "lr", e.LearningRate);
                Number(w, "train_loss", e.TrainLoss);
                Number(w, "train_acc", 100 * e.TrainAccuracy);
                Number(w, "test_loss", e.TestLoss ?? double.NaN);
                Number(w, "test_acc", 100 * (e.TestAccuracy ?? double.NaN));
                w.WriteNumber("train_s", e.TrainTime.TotalSeconds);
                w.WriteNumber("test_s", e.TestTime.TotalSeconds);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (Best is { } best)
            {
                Number(w, "best_test_acc", 100 * (best.TestAccuracy ?? double.NaN));
                w.WriteNumber("best_epoch", best.Epoch);
                Number(w, "final_test_acc", 100 * (_history[^1].TestAccuracy ?? double.NaN));
            }
            if (Test is { } test) WriteEvaluation(w, test);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> atomically (all or nothing).</summary>
    public void WriteJson(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>"confusion_matrix": [[…], …] (row = label, column = prediction) and "misclassified": [{index, label, prediction}, …].</summary>
    public static void WriteEvaluation(Utf8JsonWriter w, Evaluation e)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(e);
        w.WriteStartArray("confusion_matrix");
        for (int r = 0; r < e.Confusion.GetLength(0); r++)
        {
            w.WriteStartArray();
            for (int c = 0; c < e.Confusion.GetLength(1); c++) w.WriteNumberValue(e.Confusion[r, c]);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartArray("misclassified");
        foreach (var m in e.Misclassified)
        {
            w.WriteStartObject();
            w.WriteNumber("index", m.Index);
            w.WriteNumber("label", m.Label);
            w.WriteNumber("prediction", m.Prediction);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>The epoch line of `era train`: <c>epoch 7/15 lr 0.0812 train loss 0.0412 acc 98.71% test loss 0.0235 acc 99.31% 23.1s</c>.</summary>
    public static string EpochLine(EpochResult e, int epochs) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {e.Epoch}/{epochs} lr {e.LearningRate:G4} train loss {e.TrainLoss:F4} acc {100 * e.TrainAccuracy:F2}% test loss {e.TestLoss:F4} acc {100 * e.TestAccuracy:F2}% {e.Seconds:F1}s");

    /// <summary>JSON has no NaN or infinity: such a value (e.g. a test loss that overflowed) is written as null.</summary>
    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }
}
