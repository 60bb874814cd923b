using System.Diagnostics;
using Era.Data;
using Era.Engine.Optim;

namespace Era.Engine.Training;

/// <summary>Training stopped because the loss became NaN or infinite; says at which step and learning rate.</summary>
public sealed class TrainingDivergedException(long step, double learningRate, double loss)
    : Exception($"training diverged at step {step}: the loss is {loss} (learning rate {learningRate:R}); try a smaller learning rate")
{
    public long Step { get; } = step;
    public double LearningRate { get; } = learningRate;
    public double Loss { get; } = loss;
}

/// <summary>What one training step did.</summary>
public readonly record struct StepResult(long Step, double Loss, int Correct, int Count, double LearningRate);

/// <summary>Reported to the progress callback after each batch (e.g. for a live plot in a notebook).</summary>
public readonly record struct TrainingProgress(int Epoch, int Batch, int BatchesPerEpoch, long Step, double Loss,
    double LearningRate, double EpochLoss, double EpochAccuracy);

/// <summary>One epoch's numbers: mean training loss and accuracy (over the epoch, in train mode) and the test evaluation.</summary>
public sealed record EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double? TestLoss, double? TestAccuracy,
    TimeSpan TrainTime, TimeSpan TestTime);

/// <summary>
/// The training loop, spelled out once. One step is the five lines every PyTorch tutorial writes:
/// <code>
///   optimizer.zero_grad();                       // forget the previous batch's gradients
///   var output = model.Forward(images);          // log-probabilities [N, 10]
///   var loss = F.nll_loss(output, labels);       // mean negative log-likelihood and ∂loss/∂output
///   model.Backward(loss.Grad);                   // chain rule back through every layer: fills each p.Grad
///   optimizer.step(); scheduler?.step();         // move the weights, then the learning rate
/// </code>
/// A NaN or infinite loss stops training with <see cref="TrainingDivergedException"/> before the optimizer step: the
/// weights are those of the step before, but BatchNorm's running statistics have already seen the diverged batch.
/// </summary>
public sealed class Trainer
{
    private readonly Dictionary<int, Tensor<float>> _lossGrads = []; // ∂loss/∂output buffers, one per batch size

    public Trainer(Module<float> model, Optimizer<float> optimizer, LRScheduler<float>? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        Model = model;
        Optimizer = optimizer;
        Scheduler = scheduler;
    }

    public Module<float> Model { get; }
    public Optimizer<float> Optimizer { get; }
    public LRScheduler<float>? Scheduler { get; }

    /// <summary>Steps taken so far.</summary>
    public long Steps { get; private set; }

    /// <summary>Called after every training batch.</summary>
    public Action<TrainingProgress>? OnProgress { get; set; }

    /// <summary>Called after every epoch.</summary>
    public Action<EpochResult>? OnEpoch { get; set; }

    /// <summary>One optimization step on one batch (the model should be in train mode).</summary>
    public StepResult Step(Tensor<float> images, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        long step = Steps + 1;
        double lr = Optimizer.LearningRate;
        Optimizer.zero_grad();
        var output = Model.Forward(images);
        var loss = F.nll_loss(output, labels, LossGrad(output));
        if (!double.IsFinite(loss.Value)) throw new TrainingDivergedException(step, lr, loss.Value);
        int correct = CountCorrect(output, labels);
        Model.Backward(loss.Grad);
        Optimizer.step();
        Scheduler?.step();
        Steps = step;
        return new StepResult(step, loss.Value, correct, labels.Length, lr);
    }

    /// <summary>One pass over <paramref name="train"/>, then (if given) an evaluation on <paramref name="test"/>.</summary>
    public EpochResult TrainEpoch(DataLoader train, DataLoader? test = null, int epoch = 1)
    {
        ArgumentNullException.ThrowIfNull(train);
        Model.train();
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        long correct = 0, seen = 0;
        foreach (var batch in train.Epoch())
        {
            var r = Step(batch.Images, batch.Labels);
            lossSum += r.Loss * r.Count;
            correct += r.Correct;
            seen += r.Count;
            OnProgress?.Invoke(new TrainingProgress(epoch, batch.Index + 1, train.Count, r.Step, r.Loss, r.LearningRate,
                lossSum / seen, (double)correct / seen));
        }
        var trainTime = clock.Elapsed;
        clock.Restart();
        (double Loss, double Accuracy)? eval = test is null ? null : Evaluate(test);
        var result = new EpochResult(epoch, seen == 0 ? double.NaN : lossSum / seen, seen == 0 ? double.NaN : (double)correct / seen,
            eval?.Loss, eval?.Accuracy, trainTime, clock.Elapsed);
        OnEpoch?.Invoke(result);
        return result;
    }

    /// <summary>Several epochs; returns each epoch's numbers.</summary>
    public IReadOnlyList<EpochResult> Fit(DataLoader train, DataLoader? test, int epochs)
    {
        var results = new List<EpochResult>();
        for (int e = 1; e <= epochs; e++) results.Add(TrainEpoch(train, test, e));
        return results;
    }

    /// <summary>Mean loss and accuracy in eval mode (running BN statistics, no dropout); restores the previous mode.</summary>
    public (double Loss, double Accuracy) Evaluate(DataLoader data)
    {
        ArgumentNullException.ThrowIfNull(data);
        bool wasTraining = Model.Training;
        Model.eval();
        try
        {
            double lossSum = 0;
            long correct = 0, seen = 0;
            foreach (var batch in data.Epoch())
            {
                var output = Model.Forward(batch.Images);
                lossSum += F.nll_loss(output, batch.Labels, LossGrad(output)).Value * batch.Count;
                correct += CountCorrect(output, batch.Labels);
                seen += batch.Count;
            }
            return (seen == 0 ? double.NaN : lossSum / seen, seen == 0 ? double.NaN : (double)correct / seen);
        }
        finally
        {
            Model.train(wasTraining);
        }
    }

    /// <summary>How many rows of [N, C] scores have their largest score at the label (first maximum wins, as argmax).</summary>
    public static int CountCorrect(Tensor<float> output, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Rank != 2 || output.Shape[0] != labels.Length)
            throw new ArgumentException($"accuracy: expected scores of shape [{labels.Length}, C], got {Tensor<float>.ShapeString(output.Shape)}");
        int c = output.Shape[1], correct = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            var row = output.Data.AsSpan(n * c, c);
            int best = 0;
            for (int k = 1; k < c; k++) if (row[k] > row[best]) best = k;
            if (best == labels[n]) correct++;
        }
        return correct;
    }

    private Tensor<float> LossGrad(Tensor<float> output)
    {
        if (!_lossGrads.TryGetValue(output.Shape[0], out var g) || !g.SameShape(output))
            _lossGrads[output.Shape[0]] = g = new Tensor<float>(output.Shape);
        return g;
    }
}
