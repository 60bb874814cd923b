using Era.Data;
using Era.Engine.Optim;

namespace Era.Engine.Training;

/// <summary>
/// Training stopped because the loss became NaN, infinite or larger than <see cref="MaxLoss"/>; says at which step and
/// learning rate.
/// </summary>
public sealed class TrainingDivergedException(long step, double learningRate, double loss)
    : Exception(string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"training diverged at step {step}: the loss is {loss:G6} (learning rate {learningRate:R}); try a smaller learning rate"))
{
    /// <summary>
    /// The largest loss a run that is still learning has: a model that guesses uniformly loses ln 10 ≈ 2.3 per image,
    /// and 1000 means the right class's logit is ~1000 below another's. No run comes back from there (train --max-lr
    /// 1e3 reaches 3e16 before it overflows).
    /// </summary>
    public const double MaxLoss = 1e3;

    /// <summary>Throws when <paramref name="loss"/> says the run diverged: NaN, infinite or above <see cref="MaxLoss"/>.</summary>
    public static void ThrowIfDiverged(long step, double learningRate, double loss)
    {
        if (!(loss <= MaxLoss)) throw new TrainingDivergedException(step, learningRate, loss);   // NaN fails <= too
    }

    public long Step { get; } = step;
    public double LearningRate { get; } = learningRate;
    public double Loss { get; } = loss;
}

/// <summary>What one training step did.</summary>
public readonly record struct StepResult(long Step, double Loss, int Correct, int Count, double LearningRate);

/// <summary>Reported to the progress callback after each batch (e.g. for a live plot in a notebook).</summary>
public readonly record struct TrainingProgress(int Epoch, int Batch, int BatchesPerEpoch, long Step, double Loss,
    double LearningRate, double EpochLoss, double EpochAccuracy);

/// <summary>
/// One epoch's numbers: mean training loss and accuracy (over the epoch, in train mode), the learning rate of its last
/// step, and the test evaluation.
/// </summary>
public sealed record EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double? TestLoss, double? TestAccuracy,
    TimeSpan TrainTime, TimeSpan TestTime, double LearningRate = double.NaN)
{
    /// <summary>Training and test time together, in seconds.</summary>
    public double Seconds => (TrainTime + TestTime).TotalSeconds;
}

/// <summary>A test image the model got wrong: its index in the test set, its label and the predicted class.</summary>
public readonly record struct Misclassification(int Index, int Label, int Prediction);

/// <summary>
/// An evaluation pass: mean loss, accuracy, the confusion matrix (row = label, column = prediction) and every
/// misclassified image (indices count from the first image the loader gives, so use an unshuffled loader).
/// </summary>
public sealed record Evaluation(double Loss, double Accuracy, int[,] Confusion, IReadOnlyList<Misclassification> Misclassified)
{
    public int Count { get; init; }
}

/// <summary>
/// The training loop, spelled out once. One step is the five lines every PyTorch tutorial writes:
/// <code>
///   optimizer.zero_grad();                       // forget the previous batch's gradients
///   var output = model.Forward(images);          // log-probabilities [N, 10], the model's own buffer (no allocation)
///   var loss = F.nll_loss(output, labels);       // mean negative log-likelihood and ∂loss/∂output
///   model.Backward(loss.Grad);                   // chain rule back through every layer: fills each p.Grad
///   optimizer.step(); scheduler?.step();         // move the weights, then the learning rate
/// </code>
/// A NaN, infinite or exploded loss stops training with <see cref="TrainingDivergedException"/> before the optimizer step: the
/// weights are those of the step before, but BatchNorm's running statistics have already seen the diverged batch.
/// </summary>
public sealed class Trainer : ITrainer
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

    /// <summary>
    /// A fresh model of <paramref name="recipe"/> (weights from the default generator: seed it first), its SGD and,
    /// unless the recipe goes without, OneCycleLR over <paramref name="totalSteps"/> steps.
    /// </summary>
    public static Trainer ForRecipe(Recipe recipe, int totalSteps)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var model = recipe.CreateModel();
        var optimizer = recipe.CreateOptimizer(model);
        return new Trainer(model, optimizer, recipe.CreateScheduler(optimizer, totalSteps));
    }

    public Module<float> Model { get; }
    public Optimizer<float> Optimizer { get; }
    public LRScheduler<float>? Scheduler { get; }

    /// <summary>Steps taken so far.</summary>
    public long Steps { get; private set; }

    /// <summary>"era".</summary>
    public string Engine => "era";

    /// <summary>Trainable parameters of the model.</summary>
    public long Parameters => Model.parameters().Sum(p => (long)p.Numel);

    /// <summary>The model's train() or eval().</summary>
    public void SetTraining(bool training) => Model.train(training);

    /// <summary>Safetensors.Save of the model.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string> metadata) => Checkpoints.Safetensors.Save(Model, path, metadata);

    /// <summary>Safetensors.Load into the model.</summary>
    public void Load(string path) => Checkpoints.Safetensors.Load(Model, path);

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
        var output = Model.Forward(images);         // the model's own buffer, read before the next step overwrites it
        var loss = F.nll_loss(output, labels, LossGrad(output));
        TrainingDivergedException.ThrowIfDiverged(step, lr, loss.Value);
        int correct = CountCorrect(output, labels);
        Model.Backward(loss.Grad);
        Optimizer.step();
        Scheduler?.step();
        Steps = step;
        return new StepResult(step, loss.Value, correct, labels.Length, lr);
    }

    /// <summary>The evaluation of the last epoch that had a test loader (confusion matrix, misclassified images).</summary>
    public Evaluation? LastEvaluation { get; private set; }

    /// <summary>
    /// One pass over <paramref name="train"/>, then (if given) an evaluation on <paramref name="test"/>.
    /// <paramref name="cancel"/> is checked before each batch: a cancelled epoch throws OperationCanceledException
    /// between two steps (the weights are those after the last completed step).
    /// </summary>
    public EpochResult TrainEpoch(DataLoader train, DataLoader? test = null, int epoch = 1, CancellationToken cancel = default)
    {
        var (result, eval) = TrainingLoop.Epoch(this, train, test, epoch, OnProgress, cancel);
        if (eval is not null) LastEvaluation = eval;
        OnEpoch?.Invoke(result);
        return result;
    }

    /// <summary>Several epochs; returns each epoch's numbers.</summary>
    public IReadOnlyList<EpochResult> Fit(DataLoader train, DataLoader? test, int epochs, CancellationToken cancel = default)
    {
        var results = new List<EpochResult>();
        for (int e = 1; e <= epochs; e++) results.Add(TrainEpoch(train, test, e, cancel));
        return results;
    }

    /// <summary>Mean loss and accuracy in eval mode (running BN statistics, no dropout); restores the previous mode.</summary>
    public (double Loss, double Accuracy) Evaluate(DataLoader data)
    {
        var e = EvaluateDetailed(data);
        return (e.Loss, e.Accuracy);
    }

    /// <summary>
    /// Loss, accuracy, confusion matrix and misclassified images in eval mode (running BN statistics, no dropout);
    /// restores the previous mode.
    /// </summary>
    public Evaluation EvaluateDetailed(DataLoader data) => Evaluate(Model, data, LossGrad);

    /// <summary>
    /// Evaluates any model on <paramref name="data"/> in eval mode (running BN statistics, no dropout): loss, accuracy,
    /// confusion matrix and misclassified images; restores the previous mode.
    /// </summary>
    public static Evaluation Evaluate(Module<float> model, DataLoader data)
    {
        var grads = new Dictionary<int, Tensor<float>>();
        return Evaluate(model, data, output => grads.TryGetValue(output.Shape[0], out var g) ? g : grads[output.Shape[0]] = new Tensor<float>(output.Shape));
    }

    private static Evaluation Evaluate(Module<float> model, DataLoader data, Func<Tensor<float>, Tensor<float>> lossGrad)
    {
        ArgumentNullException.ThrowIfNull(data);
        bool wasTraining = model.Training;
        model.eval();
        try
        {
            var tally = new EvaluationTally();
            foreach (var batch in data.Epoch())
            {
                var output = model.Forward(batch.Images);
                tally.Add(output, batch.Labels, F.nll_loss(output, batch.Labels, lossGrad(output)).Value);
            }
            return tally.Result();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// The log-probabilities [N, C] of any number of images in eval mode (running BN statistics, no dropout), run
    /// <paramref name="batchSize"/> images at a time so that memory stays that of one batch; a new tensor the caller
    /// owns. Restores the previous mode.
    /// </summary>
    public static Tensor<float> LogProbabilities(Module<float> model, Tensor<float> images, int batchSize = 250)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rank < 2) throw new ArgumentException($"LogProbabilities: expected images [N, ...], got {Tensor<float>.ShapeString(images.Shape)}");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int n = images.Shape[0], per = n == 0 ? 0 : images.Numel / n;
        bool wasTraining = model.Training;
        model.eval();
        try
        {
            Tensor<float>? result = null, chunk = null;
            for (int start = 0; start < n; start += batchSize)
            {
                int m = Math.Min(batchSize, n - start);
                if (chunk is null || chunk.Shape[0] != m) chunk = new Tensor<float>([m, .. images.Shape[1..]]);
                Array.Copy(images.Data, (long)start * per, chunk.Data, 0, (long)m * per);
                var y = model.Forward(chunk);                             // [m, C]
                result ??= new Tensor<float>(n, y.Shape[1]);
                Array.Copy(y.Data, 0, result.Data, (long)start * y.Shape[1], y.Numel);
            }
            return result ?? new Tensor<float>(0, 0);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The predicted class of each image (argmax of <see cref="LogProbabilities"/>).</summary>
    public static int[] Predict(Module<float> model, Tensor<float> images, int batchSize = 250)
    {
        var logp = LogProbabilities(model, images, batchSize);
        int n = images.Shape[0], c = n == 0 ? 0 : logp.Shape[1];
        var predictions = new int[n];
        for (int i = 0; i < n; i++) predictions[i] = ArgMax(logp.Data.AsSpan(i * c, c));
        return predictions;
    }

    /// <summary>How many rows of [N, C] scores have their largest score at the label (first maximum wins, as argmax).</summary>
    public static int CountCorrect(Tensor<float> output, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Rank != 2 || output.Shape[0] != labels.Length)
            throw new ArgumentException($"accuracy: expected scores of shape [{labels.Length}, C], got {Tensor<float>.ShapeString(output.Shape)}");
        int c = output.Shape[1], correct = 0;
        for (int n = 0; n < labels.Length; n++)
            if (ArgMax(output.Data.AsSpan(n * c, c)) == labels[n]) correct++;
        return correct;
    }

    /// <summary>The index of the largest score (the first one on ties, as torch.argmax).</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int k = 1; k < row.Length; k++) if (row[k] > row[best]) best = k;
        return best;
    }

    /// <summary>The ∂loss/∂output buffer for this output's batch size (one per size, reused).</summary>
    internal Tensor<float> LossGrad(Tensor<float> output)
    {
        if (!_lossGrads.TryGetValue(output.Shape[0], out var g) || !g.SameShape(output))
            _lossGrads[output.Shape[0]] = g = new Tensor<float>(output.Shape);
        return g;
    }
}

/// <summary>An evaluation counted batch by batch (both engines): loss, accuracy, confusion matrix, misclassified images.</summary>
public sealed class EvaluationTally
{
    private double _lossSum;
    private long _correct;
    private int _seen;
    private int[,]? _confusion;
    private readonly List<Misclassification> _wrong = [];

    /// <summary>One batch: its log-probabilities [N, C], labels, and mean loss.</summary>
    public void Add(Tensor<float> output, int[] labels, double meanLoss)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(labels);
        int count = labels.Length, classes = output.Shape[1];
        _lossSum += meanLoss * count;
        _confusion ??= new int[classes, classes];
        for (int n = 0; n < count; n++)
        {
            int label = labels[n], predicted = Trainer.ArgMax(output.Data.AsSpan(n * classes, classes));
            if (label >= 0 && label < classes) _confusion[label, predicted]++;
            if (predicted == label) _correct++;
            else _wrong.Add(new Misclassification(_seen + n, label, predicted));
        }
        _seen += count;
    }

    public Evaluation Result() =>
        new(_seen == 0 ? double.NaN : _lossSum / _seen, _seen == 0 ? double.NaN : (double)_correct / _seen, _confusion ?? new int[0, 0], _wrong)
        { Count = _seen };
}
