using System.Globalization;
using System.Text.Json;
using Era.Engine.Training;

namespace Era.Cli.Commands;

/// <summary>
/// What `era train --json` and `era evaluate --json` write, as records serialized with System.Text.Json's snake_case
/// policy (accuracies in percent, times in seconds; a value that is not finite, e.g. an overflowed loss, is null, as
/// JSON has no NaN), and the epoch line both engines print.
/// </summary>
internal static class TrainingJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    internal sealed record AugmentationJson(double MaxDegrees, double MaxShift);

    internal sealed record EpochJson(int Epoch, double? Lr, double? TrainLoss, double? TrainAcc, double? TestLoss, double? TestAcc, double TrainS, double TestS);

    internal sealed record Mistake(int Index, int Label, int Prediction);

    internal sealed record Run(string Model, string Engine, long Parameters, int Epochs, int EpochsCompleted, bool Cancelled, int BatchSize,
        string Optimizer, string Schedule, IReadOnlyList<string> Without, double Lr, double MaxLr, double Momentum, double WeightDecay,
        double Dropout, AugmentationJson? Augmentation, long Seed, int Threads, int TrainImages, int TestImages,
        IReadOnlyList<EpochJson> History, double? BestTestAcc, int? BestEpoch, double? FinalTestAcc,
        IReadOnlyList<int[]>? ConfusionMatrix, IReadOnlyList<Mistake>? Misclassified);

    internal sealed record EvaluationJson(string Model, string Engine, string Weights, int TestImages, double? TestLoss, double? TestAcc,
        IReadOnlyList<int[]> ConfusionMatrix, IReadOnlyList<Mistake> Misclassified);

    /// <summary>The run: recipe, seed, threads, per-epoch history, best and final accuracy, and the last test evaluation's confusion matrix (row = label) and misclassified images.</summary>
    public static string Of(TrainingRun run, int threads)
    {
        var r = run.Recipe;
        var best = run.Best;
        return Serialize(new Run(r.Model, run.Trainer.Engine, run.Parameters, r.Epochs, run.History.Count, run.Cancelled, r.BatchSize,
            Recipe.OptimizerName, r.Schedule ? Recipe.ScheduleName : "constant", r.Missing, r.Lr, r.MaxLr, r.Momentum, r.WeightDecay, r.Dropout,
            r.Augmentation is { } a ? new AugmentationJson(a.MaxDegrees, a.MaxShift) : null, run.Seed, threads,
            run.TrainLoader.Dataset.Count, run.TestLoader.Dataset.Count,
            [.. run.History.Select(e => new EpochJson(e.Epoch, N(e.LearningRate), N(e.TrainLoss), N(100 * e.TrainAccuracy), N(e.TestLoss),
                N(100 * e.TestAccuracy), e.TrainTime.TotalSeconds, e.TestTime.TotalSeconds))],
            best is null ? null : N(100 * best.TestAccuracy), best?.Epoch, best is null ? null : N(100 * run.History[^1].TestAccuracy),
            run.Test is { } t ? Confusion(t) : null, run.Test is { } m ? Mistakes(m) : null));
    }

    /// <summary>`era evaluate --json`: the accuracy, the confusion matrix and the misclassified images.</summary>
    public static string Of(Evaluation e, string model, string engine, string weights) =>
        Serialize(new EvaluationJson(model, engine, weights, e.Count, N(e.Loss), N(100 * e.Accuracy), Confusion(e), Mistakes(e)));

    /// <summary>The epoch line of `era train`: <c>epoch 7/15 lr 0.0812 train loss 0.0412 acc 98.71% test loss 0.0235 acc 99.31% 23.1s</c>.</summary>
    public static string EpochLine(EpochResult e, int epochs) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {e.Epoch}/{epochs} lr {e.LearningRate:G4} train loss {e.TrainLoss:F4} acc {100 * e.TrainAccuracy:F2}% test loss {e.TestLoss:F4} acc {100 * e.TestAccuracy:F2}% {e.Seconds:F1}s");

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options) + "\n";

    private static double? N(double? v) => v is double d && double.IsFinite(d) ? d : null;

    private static int[][] Confusion(Evaluation e) =>
        [.. Enumerable.Range(0, e.Confusion.GetLength(0)).Select(r => Enumerable.Range(0, e.Confusion.GetLength(1)).Select(c => e.Confusion[r, c]).ToArray())];

    private static Mistake[] Mistakes(Evaluation e) => [.. e.Misclassified.Select(m => new Mistake(m.Index, m.Label, m.Prediction))];
}
