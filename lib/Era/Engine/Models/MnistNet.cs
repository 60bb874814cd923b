using System.Numerics;
using Era.Engine.Layers;

namespace Era.Engine.Models;

/// <summary>
/// A course MNIST CNN built from its <see cref="Models.Architecture"/> (see <see cref="ModelZoo"/>): a feature
/// extractor <c>f</c> that ends in global average pooling, then <c>flatten</c>, a linear classifier <c>fc</c> and
/// <c>log_softmax</c>, with PyTorch's state_dict names (f.0.0.weight, f.0.1.running_mean, …, fc.weight).
/// [N, 1, 28, 28] → [N, 10] log-probabilities.
/// <code>
///   blk(i, o, p) = ConvBnReluDropout(Conv2d(i, o, 3, padding=p, bias=False), BatchNorm2d(o), ReLU(), Dropout(d))
///   MaxPool → MaxPool2d(2),  Transition(i, o) → Conv2d(i, o, 1, bias=False),  GlobalAvgPool → AdaptiveAvgPool2d(1)
///   forward(x) = log_softmax(fc(flatten(f(x))), 1)
/// </code>
/// </summary>
public sealed class MnistNet<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="architecture">The layers of f, in order.</param>
    /// <param name="dropout">The dropout probability of every block.</param>
    /// <param name="batchNorm">False (the ablation): blocks without BatchNorm2d, their convolutions with a bias.</param>
    /// <param name="globalAvgPool">False (the ablation): no global average pooling; fc reads all of the last feature maps.</param>
    public MnistNet(Architecture architecture, double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        Architecture = architecture;
        var features = new Sequential<T>();
        foreach (var layer in architecture.Features)
        {
            if (layer is GlobalAvgPool && !globalAvgPool) continue;
            features.Add(layer switch
            {
                Models.Block b => Block(b.In, b.Out, dropout, b.Padding, batchNorm),
                MaxPool => new MaxPool2d<T>(2),
                Transition t => new Conv2d<T>(t.In, t.Out, 1, bias: false),
                GlobalAvgPool => new AdaptiveAvgPool2d<T>(1),
                _ => throw new ArgumentException($"unknown layer {layer}", nameof(architecture)),
            });
        }
        f = RegisterModule("f", features);
        flatten = RegisterModule("flatten", new Flatten<T>());
        fc = RegisterModule("fc", new Linear<T>(architecture.ClassifierInputs(globalAvgPool), architecture.Classes));
        log_softmax = RegisterModule("log_softmax", new LogSoftmax<T>(1));
        InputGradient = false;
    }

    /// <summary>What the model was built from.</summary>
    public Architecture Architecture { get; }

    /// <summary>The model's name: reference, course, tiny.</summary>
    public string Name => Architecture.Name;

    /// <summary>
    /// The usual block: blk(i, o, p) = Sequential(Conv2d(i, o, 3, padding=p, bias=False), BatchNorm2d(o), ReLU(), Dropout(d)),
    /// here as <see cref="ConvBnReluDropout{T}"/>, which has the same children and names and runs BatchNorm2d → ReLU →
    /// Dropout as one fused kernel on float (torch.backends.fast.enabled = false runs the four layers one by one).
    /// Without batch norm (the ablation): Sequential(Conv2d(i, o, 3, padding=p, bias=True), ReLU(), Dropout(d)).
    /// </summary>
    public static Module<T> Block(int inChannels, int outChannels, double dropout, int padding = 0, bool batchNorm = true) =>
        batchNorm
            ? new ConvBnReluDropout<T>(new Conv2d<T>(inChannels, outChannels, 3, padding: padding, bias: false),
                new BatchNorm2d<T>(outChannels), new ReLU<T>(), new Dropout<T>(dropout))
            : new Sequential<T>(new Conv2d<T>(inChannels, outChannels, 3, padding: padding, bias: true), new ReLU<T>(), new Dropout<T>(dropout));

    /// <summary>
    /// Whether Backward computes ∂L/∂images (for saliency maps or gradient checks). Off by default, as in PyTorch
    /// where images do not require grad: it saves the first convolution's input-gradient pass.
    /// </summary>
    public bool InputGradient
    {
        get => FirstConv.InputRequiresGrad;
        set => FirstConv.InputRequiresGrad = value;
    }

    private Conv2d<T> FirstConv => f.NamedModules().Select(m => m.Module).OfType<Conv2d<T>>().First();

#pragma warning disable IDE1006 // PyTorch names
    public Sequential<T> f { get; }
    public Flatten<T> flatten { get; }
    public Linear<T> fc { get; }
    public LogSoftmax<T> log_softmax { get; }
#pragma warning restore IDE1006

    /// <summary>
    /// [N, 1, 28, 28] images → [N, 10] log-probabilities: the last layer's own buffer, which the next Forward overwrites
    /// (the rule of every module, see <see cref="Module{T}.Forward"/>; Clone it to keep it). The batch runs at once: for
    /// thousands of images use <see cref="Training.Trainer.LogProbabilities"/>, which goes through them in batches.
    /// </summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        Shapes.CheckInput(Name, input, -1, 1, -1, -1);
        return log_softmax.Call(fc.Call(flatten.Call(f.Call(input))));
    }

    /// <summary>The chain rule backwards through the same modules: takes ∂L/∂log-probabilities, returns ∂L/∂images (zeros unless <see cref="InputGradient"/>).</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput) =>
        f.CallBackward(flatten.CallBackward(fc.CallBackward(log_softmax.CallBackward(gradOutput))));
}
