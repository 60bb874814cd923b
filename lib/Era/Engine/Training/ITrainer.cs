using System.Diagnostics;
using Era.Data;

namespace Era.Engine.Training;

/// <summary>
/// What the course's commands need from a training engine — Era.Engine's <see cref="Trainer"/> or Era.Torch's
/// TorchTrainer — so that one `era train`, `era bench` and `era evaluate` drive either with the same output: a step,
/// an evaluation, a checkpoint.
/// </summary>
public interface ITrainer
{
    /// <summary>For the log lines: "era", or "torchsharp (libtorch) on cpu".</summary>
    string Engine { get; }

    /// <summary>Trainable parameters of the model.</summary>
    long Parameters { get; }

    /// <summary>Steps taken so far.</summary>
    long Steps { get; }

    /// <summary>Puts the model in train mode (batch statistics, dropout) or eval mode.</summary>
    void SetTraining(bool training);

    /// <summary>One optimization step on one batch of images [N, 1, H, W] and their labels (the model in train mode).</summary>
    StepResult Step(Tensor<float> images, int[] labels);

    /// <summary>Loss, accuracy, confusion matrix and misclassified images in eval mode; restores the mode.</summary>
    Evaluation EvaluateDetailed(DataLoader data);

    /// <summary>Saves the weights as a safetensors checkpoint with PyTorch's state_dict names, atomically.</summary>
    void Save(string path, IReadOnlyDictionary<string, string> metadata);

    /// <summary>Loads a checkpoint's weights (names and shapes checked first: a bad file changes nothing).</summary>
    void Load(string path);
}

/// <summary>The epoch loop, written once for every <see cref="ITrainer"/>.</summary>
public static class TrainingLoop
{
    /// <summary>
    /// One pass over <paramref name="train"/> (its first <paramref name="maxBatches"/> batches when given) in train
    /// mode, then (if given) an evaluation on <paramref name="test"/>. <paramref name="cancel"/> is checked before each
    /// batch: a cancelled epoch throws OperationCanceledException between two steps.
    /// </summary>
    public static (EpochResult Result, Evaluation? Test) Epoch(ITrainer trainer, DataLoader train, DataLoader? test, int epoch,
        Action<TrainingProgress>? progress = null, CancellationToken cancel = default, int? maxBatches = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(train);
        trainer.SetTraining(true);
        var clock = Stopwatch.StartNew();
        double lossSum = 0, lr = double.NaN;
        long correct = 0, seen = 0;
        int batches = Math.Min(train.Count, maxBatches ?? int.MaxValue);
        foreach (var batch in train.Epoch())
        {
            if (batch.Index >= batches) break;
            cancel.ThrowIfCancellationRequested();
            var r = trainer.Step(batch.Images, batch.Labels);
            lr = r.LearningRate;
            lossSum += r.Loss * r.Count;
            correct += r.Correct;
            seen += r.Count;
            progress?.Invoke(new TrainingProgress(epoch, batch.Index + 1, batches, r.Step, r.Loss, r.LearningRate,
                lossSum / seen, (double)correct / seen));
        }
        var trainTime = clock.Elapsed;
        clock.Restart();
        var eval = test is null ? null : trainer.EvaluateDetailed(test);
        return (new EpochResult(epoch, seen == 0 ? double.NaN : lossSum / seen, seen == 0 ? double.NaN : (double)correct / seen,
            eval?.Loss, eval?.Accuracy, trainTime, clock.Elapsed, lr), eval);
    }
}
