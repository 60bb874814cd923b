using System.Numerics;
using Era.Engine.Layers;

namespace Era.Engine.Models;

/// <summary>
/// The shape shared by the course's MNIST CNNs (see <see cref="ModelZoo"/>): a feature extractor <c>f</c> that ends
/// in global average pooling, then <c>flatten</c>, a linear classifier <c>fc</c> and <c>log_softmax</c>, with
/// PyTorch's state_dict names (f.0.0.weight, f.0.1.running_mean, …, fc.weight). [N, 1, 28, 28] → [N, 10] log-probabilities.
/// </summary>
public class MnistNet<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="name">The model's name (in error messages and summaries).</param>
    /// <param name="features">The convolutions: [N, 1, H, W] → [N, C, S, S].</param>
    /// <param name="channels">C, the channels of the last feature maps.</param>
    /// <param name="size">S, their height and width.</param>
    /// <param name="globalAvgPool">
    /// True: f ends in AdaptiveAvgPool2d(1) and fc reads C numbers. False (the ablation): fc reads all C·S·S.
    /// </param>
    protected MnistNet(string name, Sequential<T> features, int channels, int size, bool globalAvgPool = true)
    {
        Name = name;
        if (globalAvgPool) features.Add(new AdaptiveAvgPool2d<T>(1));   // [N, C, S, S] → [N, C, 1, 1]
        f = RegisterModule("f", features);
        flatten = RegisterModule("flatten", new Flatten<T>());
        fc = RegisterModule("fc", new Linear<T>(globalAvgPool ? channels : channels * size * size, 10));
        log_softmax = RegisterModule("log_softmax", new LogSoftmax<T>(1));
        InputGradient = false;
    }

    /// <summary>The model's name: reference, course, tiny.</summary>
    public string Name { get; }

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
    /// [N, 1, 28, 28] images → [N, 10] log-probabilities, as a new tensor that belongs to the caller: keep it, change it,
    /// call Forward again — it stays as it was. (The layers inside return their own buffers, overwritten by their next
    /// call, as in llm.c; see <see cref="Module{T}.ForwardNoCopy"/>.) The batch runs at once: for thousands of images
    /// use <see cref="Training.Trainer.LogProbabilities"/>, which goes through them in batches.
    /// </summary>
    public override Tensor<T> Forward(Tensor<T> input) => ForwardNoCopy(input).Clone();

    /// <summary>
    /// The same log-probabilities without the copy: the returned tensor is the model's own output buffer and the next
    /// call overwrites it. The training loop uses this (no allocation per step).
    /// </summary>
    public override Tensor<T> ForwardNoCopy(Tensor<T> input)
    {
        Shapes.CheckInput(GetType().Name, input, -1, 1, -1, -1);
        return log_softmax.Forward(fc.Forward(flatten.Forward(f.Forward(input))));
    }

    /// <summary>The chain rule backwards through the same modules: takes ∂L/∂log-probabilities, returns ∂L/∂images (zeros unless <see cref="InputGradient"/>).</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput) =>
        f.Backward(flatten.Backward(fc.Backward(log_softmax.Backward(gradOutput))));
}
