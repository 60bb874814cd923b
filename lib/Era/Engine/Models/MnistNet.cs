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
    /// <param name="features">The feature extractor: [N, 1, H, W] → [N, C, 1, 1].</param>
    /// <param name="channels">C, the number of features fc reads.</param>
    protected MnistNet(string name, Sequential<T> features, int channels)
    {
        Name = name;
        f = RegisterModule("f", features);
        flatten = RegisterModule("flatten", new Flatten<T>());
        fc = RegisterModule("fc", new Linear<T>(channels, 10));
        log_softmax = RegisterModule("log_softmax", new LogSoftmax<T>(1));
        InputGradient = false;
    }

    /// <summary>The model's name: reference, course, tiny.</summary>
    public string Name { get; }

    /// <summary>
    /// The usual block: blk(i, o, p) = Sequential(Conv2d(i, o, 3, padding=p, bias=False), BatchNorm2d(o), ReLU(), Dropout(d)),
    /// here as <see cref="ConvBnReluDropout{T}"/>, which has the same children and names and runs BatchNorm2d → ReLU →
    /// Dropout as one fused kernel on float (set its Fuse to false to run the four layers one by one).
    /// </summary>
    public static ConvBnReluDropout<T> Block(int inChannels, int outChannels, double dropout, int padding = 0) =>
        new(new Conv2d<T>(inChannels, outChannels, 3, padding: padding, bias: false), new BatchNorm2d<T>(outChannels),
            new ReLU<T>(), new Dropout<T>(dropout));

    /// <summary>
    /// Whether Backward computes ∂L/∂images (for saliency maps or gradient checks). Off by default, as in PyTorch
    /// where images do not require grad: it saves the first convolution's input-gradient pass.
    /// </summary>
    public bool InputGradient
    {
        get => FirstConv.InputRequiresGrad;
        set => FirstConv.InputRequiresGrad = value;
    }

    private Conv2d<T> FirstConv => ((ConvBnReluDropout<T>)f[0]).Conv;

#pragma warning disable IDE1006 // PyTorch names
    public Sequential<T> f { get; }
    public Flatten<T> flatten { get; }
    public Linear<T> fc { get; }
    public LogSoftmax<T> log_softmax { get; }
#pragma warning restore IDE1006

    /// <summary>
    /// In eval mode, batches larger than this run this many images at a time (same result, image by image), so
    /// evaluating the whole test set at once needs no more activation memory than a training batch.
    /// </summary>
    public int EvalChunk { get; set; } = 256;

    private Tensor<T>? _evalOutput, _chunkInput;
    private bool _chunked;

    /// <summary>[N, 1, 28, 28] images → [N, 10] log-probabilities.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        Shapes.CheckInput(GetType().Name, input, -1, 1, -1, -1);
        _chunked = false;
        int n = input.Shape[0];
        if (Training || n <= EvalChunk) return Layers(input);
        // Eval of a large batch: equal chunks of at most EvalChunk images (equal sizes keep the buffers reused).
        int chunks = (n + EvalChunk - 1) / EvalChunk, size = (n + chunks - 1) / chunks, per = input.Numel / n;
        var y = Buffers.Ensure(ref _evalOutput, n, 10);
        for (int start = 0; start < n; start += size)
        {
            int m = Math.Min(size, n - start);
            var x = Buffers.Ensure(ref _chunkInput, m, 1, input.Shape[2], input.Shape[3]);
            Array.Copy(input.Data, start * per, x.Data, 0, m * per);
            Array.Copy(Layers(x).Data, 0, y.Data, start * 10, m * 10);
        }
        _chunked = true;
        return y;
    }

    private Tensor<T> Layers(Tensor<T> x) => log_softmax.Forward(fc.Forward(flatten.Forward(f.Forward(x))));

    /// <summary>The chain rule backwards through the same modules: takes ∂L/∂log-probabilities, returns ∂L/∂images (zeros unless <see cref="InputGradient"/>).</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        if (_chunked)
            throw new InvalidOperationException($"{GetType().Name}.Backward: the last Forward was an eval batch of more than EvalChunk = {EvalChunk} images, run in chunks; backpropagate through smaller batches");
        return f.Backward(flatten.Backward(fc.Backward(log_softmax.Backward(gradOutput))));
    }
}
