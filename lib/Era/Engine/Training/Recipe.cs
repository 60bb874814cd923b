using Era.Data;
using Era.Engine.Models;
using Era.Engine.Optim;

namespace Era.Engine.Training;

/// <summary>
/// How a model is trained: every number the training loop needs, one record per model, used by `era train`,
/// `era bench`, the tests and the notebooks. All recipes are SGD with momentum under the 1cycle policy
/// (OneCycleLR: the learning rate rises from MaxLr/25 to MaxLr over the first 30% of the steps, then anneals to
/// almost 0, while the momentum moves between 0.95 and 0.85 the other way), as the PyTorch anchor
/// (shared/anchors/pytorch_mnist.py) does.
/// <code>
///   model      epochs  batch  max lr  dropout  augmentation
///   reference      15    128     0.1     0.05  none (the anchor's recipe)
///   course         15    128     0.1     0.05  ±7°, ±2 px
///   tiny           15     64     0.1     0.05  ±7°, ±2 px  (batch 64: twice the steps; with 128, seed 2 ended at 99.39%)
/// </code>
/// </summary>
/// <param name="Model">A <see cref="ModelZoo"/> name.</param>
/// <param name="Epochs">Passes over the training set; the schedule spans all of them.</param>
/// <param name="BatchSize">Training images per step (the last, short batch of an epoch is kept, as PyTorch's default).</param>
/// <param name="Lr">SGD's learning rate before the scheduler takes over (OneCycleLR starts at MaxLr/25 whatever it is).</param>
/// <param name="MaxLr">OneCycleLR's peak learning rate.</param>
/// <param name="Momentum">SGD momentum (OneCycleLR cycles it between 0.85 and 0.95 when it is positive).</param>
/// <param name="WeightDecay">L2 penalty added to the gradients.</param>
/// <param name="Dropout">Dropout probability after every block.</param>
/// <param name="Augmentation">The training-time transform, or null for none.</param>
/// <param name="EvalBatchSize">Test images per evaluation batch (only memory depends on it; 250 splits the 10,000 test images evenly).</param>
public sealed record Recipe(string Model, int Epochs, int BatchSize, double Lr, double MaxLr, double Momentum, double WeightDecay,
    double Dropout, Augmentation? Augmentation, int EvalBatchSize = 250)
{
    public const string OptimizerName = "SGD";
    public const string ScheduleName = "OneCycleLR";

    /// <summary>Blocks with BatchNorm2d (false: Conv2d with bias → ReLU → Dropout).</summary>
    public bool BatchNorm { get; init; } = true;

    /// <summary>Global average pooling before fc (false: fc reads the flattened last feature maps).</summary>
    public bool GlobalAvgPool { get; init; } = true;

    /// <summary>The OneCycleLR schedule (false: SGD at the constant learning rate <see cref="Lr"/>).</summary>
    public bool Schedule { get; init; } = true;

    /// <summary>What <see cref="Without"/> can take out of a recipe, one at a time, to see what each part contributes.</summary>
    public static IReadOnlyList<string> Parts { get; } = ["bn", "dropout", "gap", "augmentation", "schedule"];

    /// <summary>
    /// This recipe with one part taken out (the ablation): "bn" (no batch norm), "dropout" (p = 0), "gap" (no global
    /// average pooling), "augmentation" (the images as they are), "schedule" (constant learning rate <see cref="Lr"/>).
    /// </summary>
    public Recipe Without(string part) => part switch
    {
        "bn" => this with { BatchNorm = false },
        "dropout" => this with { Dropout = 0 },
        "gap" => this with { GlobalAvgPool = false },
        "augmentation" => this with { Augmentation = null },
        "schedule" => this with { Schedule = false },
        _ => throw new ArgumentException($"unknown part '{part}' (available: {string.Join(", ", Parts)})", nameof(part)),
    };

    /// <summary>The parts this recipe goes without (as <see cref="Without"/> names them), for logs and JSON.</summary>
    public IReadOnlyList<string> Missing => [.. Parts.Where(part => Without(part) == this)];   // taking it out changes nothing

    /// <summary>The recipe of the <see cref="ModelZoo"/> model <paramref name="model"/>.</summary>
    public static Recipe For(string model) => model switch
    {
        "reference" => new Recipe("reference", 15, 128, 0.05, 0.1, 0.9, 0, 0.05, null),
        "course" => new Recipe("course", 15, 128, 0.05, 0.1, 0.9, 0, 0.05, Data.Augmentation.Default),
        "tiny" => new Recipe("tiny", 15, 64, 0.05, 0.1, 0.9, 0, 0.05, Data.Augmentation.Default),
        _ => throw new ArgumentException($"unknown model '{model}' (available: {string.Join(", ", ModelZoo.Names)})", nameof(model)),
    };

    /// <summary>Throws <see cref="InvalidRecipeException"/> naming the first number out of range (as the CLI option that sets it).</summary>
    public Recipe Validate()
    {
        if (!ModelZoo.Exists(Model)) throw new InvalidRecipeException("model", $"unknown model '{Model}' (available: {string.Join(", ", ModelZoo.Names)})");
        if (Epochs is < 1 or > 1000) throw new InvalidRecipeException("epochs", $"must be between 1 and 1000, got {Epochs}");
        if (BatchSize is < 1 or > 60000) throw new InvalidRecipeException("batch-size", $"must be between 1 and 60000, got {BatchSize}");
        if (EvalBatchSize is < 1 or > 60000) throw new InvalidRecipeException("eval-batch-size", $"must be between 1 and 60000, got {EvalBatchSize}");
        if (!(Lr > 0 && double.IsFinite(Lr))) throw new InvalidRecipeException("lr", $"must be a positive number, got {Format(Lr)}");
        if (!(MaxLr > 0 && double.IsFinite(MaxLr))) throw new InvalidRecipeException("max-lr", $"must be a positive number, got {Format(MaxLr)}");
        if (!(Momentum >= 0 && Momentum < 1)) throw new InvalidRecipeException("momentum", $"must be in [0, 1), got {Format(Momentum)}");
        if (!(WeightDecay >= 0 && double.IsFinite(WeightDecay))) throw new InvalidRecipeException("weight-decay", $"must be 0 or more, got {Format(WeightDecay)}");
        if (!(Dropout >= 0 && Dropout < 1)) throw new InvalidRecipeException("dropout", $"must be in [0, 1), got {Format(Dropout)}");
        return this;
    }

    private static string Format(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A fresh model of this recipe (weights from the default generator; seed it first).</summary>
    public MnistNet<float> CreateModel() => ModelZoo.Create(Model, seed: null, Dropout, BatchNorm, GlobalAvgPool);

    /// <summary>
    /// The memory one training step needs for its activations at <see cref="BatchSize"/>: torchsummary's estimate
    /// (every layer's output, forward and backward, float32) per image times the batch. An upper bound for this
    /// engine, which reuses buffers (the reference model measured 0.42 of the estimate's 0.79 MB per image). The model
    /// it measures draws its weights from the default generator, whose state is put back: seeding is unaffected.
    /// </summary>
    public long StepBytes()
    {
        var state = torch.default_generator.State;
        try
        {
            double perImage = Summary.summary(CreateModel(), 1, Mnist.ImageSize, Mnist.ImageSize).ForwardBackwardMB * 1024 * 1024;
            return (long)Math.Ceiling(perImage * BatchSize);
        }
        finally
        {
            torch.default_generator.State = state;
        }
    }

    /// <summary>SGD over the model's parameters.</summary>
    public SGD<float> CreateOptimizer(Module<float> model) =>
        new(model.parameters(), lr: Lr, momentum: Momentum, weight_decay: WeightDecay);

    /// <summary>OneCycleLR over <paramref name="totalSteps"/> steps (epochs × batches per epoch for a whole run); null without <see cref="Schedule"/>.</summary>
    public OneCycleLR<float>? CreateScheduler(Optimizer<float> optimizer, int totalSteps) =>
        Schedule ? new(optimizer, max_lr: MaxLr, total_steps: totalSteps, cycle_momentum: Momentum > 0) : null;

    /// <summary>The shuffled, possibly augmented training batches (every batch, the last one short, unless <paramref name="drop_last"/>).</summary>
    public DataLoader CreateTrainLoader(TensorDataset train, bool drop_last = false) =>
        new(train, BatchSize, shuffle: true, drop_last: drop_last, augmentation: Augmentation);

    /// <summary>The test batches, in order (so misclassified indices are test-set indices).</summary>
    public DataLoader CreateTestLoader(TensorDataset test) => new(test, EvalBatchSize);
}

/// <summary>A recipe number out of range: <see cref="Field"/> is the CLI option's name without its dashes ("batch-size").</summary>
public sealed class InvalidRecipeException(string field, string problem) : ArgumentException($"{field}: {problem}")
{
    public string Field { get; } = field;
    public string Problem { get; } = problem;
}
