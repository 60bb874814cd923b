using System.Numerics;
using Era.Engine.Layers;

namespace Era.Engine.Models;

/// <summary>
/// The course's reference MNIST CNN, module for module the PyTorch model of shared/anchors/pytorch_mnist.py, so
/// state_dict names match (f.0.0.weight, f.0.1.running_mean, f.4.weight, fc.bias, …) — 12,098 parameters:
/// <code>
///   f = Sequential(blk(1, 8), blk(8, 16), blk(16, 16), MaxPool2d(2), Conv2d(16, 8, 1, bias=False),
///                  blk(8, 16), blk(16, 16), blk(16, 16), blk(16, 16, p=1), AdaptiveAvgPool2d(1))
///   blk(i, o, p=0) = Sequential(Conv2d(i, o, 3, padding=p, bias=False), BatchNorm2d(o), ReLU(), Dropout(d))
///   forward(x) = log_softmax(fc(flatten(f(x))), 1),   fc = Linear(16, 10)
/// </code>
/// [N, 1, 28, 28] → 26 → 24 → 22 → pool 11 → 1×1 → 9 → 7 → 5 → 5 (padding 1) → GAP → 16 → 10 log-probabilities.
/// </summary>
public class ReferenceNet<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public ReferenceNet(double dropout = 0.05)
    {
        Sequential<T> Blk(int i, int o, int p = 0) =>
            new(new Conv2d<T>(i, o, 3, padding: p, bias: false), new BatchNorm2d<T>(o), new ReLU<T>(), new Dropout<T>(dropout));
        // Built in PyTorch's order; weights are drawn from the seeded generator in this order.
        f = RegisterModule("f", new Sequential<T>(
            Blk(1, 8), Blk(8, 16), Blk(16, 16), new MaxPool2d<T>(2), new Conv2d<T>(16, 8, 1, bias: false),
            Blk(8, 16), Blk(16, 16), Blk(16, 16), Blk(16, 16, p: 1), new AdaptiveAvgPool2d<T>(1)));
        flatten = RegisterModule("flatten", new Flatten<T>());
        fc = RegisterModule("fc", new Linear<T>(16, 10));
        log_softmax = RegisterModule("log_softmax", new LogSoftmax<T>(1));
        InputGradient = false;
    }

    /// <summary>
    /// Whether Backward computes ∂L/∂images (for saliency maps or gradient checks). Off by default, as in PyTorch
    /// where images do not require grad: it saves the first convolution's input-gradient pass.
    /// </summary>
    public bool InputGradient
    {
        get => FirstConv.InputRequiresGrad;
        set => FirstConv.InputRequiresGrad = value;
    }

    private Conv2d<T> FirstConv => (Conv2d<T>)((Sequential<T>)f[0])[0];

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
        Shapes.CheckInput("ReferenceNet", input, -1, 1, -1, -1);
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
            throw new InvalidOperationException($"ReferenceNet.Backward: the last Forward was an eval batch of more than EvalChunk = {EvalChunk} images, run in chunks; backpropagate through smaller batches");
        return f.Backward(flatten.Backward(fc.Backward(log_softmax.Backward(gradOutput))));
    }
}

/// <summary>The float ReferenceNet used for training.</summary>
public sealed class ReferenceNet(double dropout = 0.05) : ReferenceNet<float>(dropout);
