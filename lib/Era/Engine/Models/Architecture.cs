namespace Era.Engine.Models;

/// <summary>One entry of a model's feature extractor <c>f</c>, in order (each is one child of the Sequential).</summary>
public abstract record Layer;

/// <summary>blk(i, o, p) = Sequential(Conv2d(i, o, 3, padding=p, bias=False), BatchNorm2d(o), ReLU(), Dropout(d)): 3×3, the size shrinks by 2 − 2p.</summary>
public sealed record Block(int In, int Out, int Padding = 0) : Layer;

/// <summary>MaxPool2d(2): halves the size.</summary>
public sealed record MaxPool : Layer;

/// <summary>Conv2d(i, o, 1, bias=False): a 1×1 convolution that mixes channels (the "transition" after pooling).</summary>
public sealed record Transition(int In, int Out) : Layer;

/// <summary>AdaptiveAvgPool2d(1): global average pooling, [N, C, H, W] → [N, C, 1, 1].</summary>
public sealed record GlobalAvgPool : Layer;

/// <summary>
/// A course model as data, the one description both engines build from (<see cref="MnistNet{T}"/> here,
/// Era.Torch's TorchMnistNet on libtorch): <c>f = Sequential(Features...)</c>, <c>fc = Linear(FeatureChannels, 10)</c>,
/// forward(x) = log_softmax(fc(flatten(f(x))), 1). Both therefore have PyTorch's state_dict names: f.0.0.weight (a
/// block's conv), f.0.1.weight/bias/running_mean/running_var/num_batches_tracked (its BatchNorm), f.4.weight (a
/// transition), fc.weight, fc.bias. Modules are built in this order, so weights are drawn from a seeded generator
/// in this order too.
/// </summary>
public sealed record Architecture(string Name, IReadOnlyList<Layer> Features, int Classes = 10, int InputSize = 28)
{
    /// <summary>Channels out of the feature extractor.</summary>
    public int FeatureChannels => Features.Select(l => l switch { Block b => b.Out, Transition t => t.Out, _ => 0 }).Last(c => c > 0);

    /// <summary>The Linear layer's input: the channels after global average pooling, else (the ablation) every value of the last feature maps.</summary>
    public int ClassifierInputs(bool globalAvgPool = true)
    {
        int s = OutputSize(InputSize);
        return globalAvgPool ? FeatureChannels : FeatureChannels * s * s;
    }

    /// <summary>Trainable parameters of the model as described (with batch norm and global average pooling).</summary>
    public long Parameters => Features.Sum(l => l switch
    {
        Block b => 9L * b.In * b.Out + 2L * b.Out,
        Transition t => (long)t.In * t.Out,
        _ => 0L,
    }) + (FeatureChannels + 1L) * Classes;

    /// <summary>The spatial size after the feature extractor's layers before global pooling, for an input of <paramref name="size"/>; 0 if the image is too small.</summary>
    public int OutputSize(int size)
    {
        foreach (var layer in Features)
        {
            size = layer switch
            {
                Block b => size - 2 + 2 * b.Padding,
                MaxPool => size / 2,
                _ => size,
            };
            if (size < 1) return 0;
        }
        return size;
    }

    /// <summary>The smallest square image the model accepts.</summary>
    public int MinimumInputSize
    {
        get
        {
            int s = 1;
            while (OutputSize(s) < 1) s++;
            return s;
        }
    }

    /// <summary>
    /// The 12,098-parameter reference CNN of shared/anchors/pytorch_mnist.py, module for module:
    /// [N, 1, 28, 28] → 26 → 24 → 22 → pool 11 → 1×1 → 9 → 7 → 5 → 5 (padding 1) → GAP → 16 → 10 log-probabilities.
    /// </summary>
    public static Architecture Reference { get; } = new("reference",
    [
        new Block(1, 8), new Block(8, 16), new Block(16, 16), new MaxPool(), new Transition(16, 8),
        new Block(8, 16), new Block(16, 16), new Block(16, 16), new Block(16, 16, 1), new GlobalAvgPool(),
    ]);

    /// <summary>
    /// The course model, 14,656 parameters (under the assignment's 20,000): the reference design a little wider.
    /// [N, 1, 28, 28] → 26 → 24 → 22 → pool 11 → 1×1 → 9 → 7 → 5 → 5 (padding 1) → GAP → 20 → 10 log-probabilities.
    /// </summary>
    public static Architecture Course { get; } = new("course",
    [
        new Block(1, 10), new Block(10, 16), new Block(16, 16), new MaxPool(), new Transition(16, 10),
        new Block(10, 16), new Block(16, 16), new Block(16, 20), new Block(20, 20, 1), new GlobalAvgPool(),
    ]);

    /// <summary>
    /// The tiny model, 7,546 parameters (under 8,000): two blocks before the pool instead of three.
    /// [N, 1, 28, 28] → 26 → 24 → 12 → 10 → 8 → 6 → 6 (padding 1) → GAP → 16 → 10.
    /// </summary>
    public static Architecture Tiny { get; } = new("tiny",
    [
        new Block(1, 8), new Block(8, 12), new MaxPool(), new Transition(12, 8),
        new Block(8, 12), new Block(12, 12), new Block(12, 16), new Block(16, 16, 1), new GlobalAvgPool(),
    ]);

    /// <summary>The models, in the order help texts list them (the default first).</summary>
    public static IReadOnlyList<Architecture> All { get; } = [Course, Reference, Tiny];

    /// <summary>The model called <paramref name="name"/>; an ArgumentException listing the names otherwise.</summary>
    public static Architecture Get(string name) =>
        All.FirstOrDefault(a => a.Name == name)
        ?? throw new ArgumentException($"unknown model '{name}' (available: {string.Join(", ", All.Select(a => a.Name))})", nameof(name));
}
