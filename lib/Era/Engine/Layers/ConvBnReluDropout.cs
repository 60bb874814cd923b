using System.Numerics;

namespace Era.Engine.Layers;

/// <summary>
/// The course models' block, Conv2d → BatchNorm2d → ReLU → Dropout, as one module. Its children are named "0", "1",
/// "2", "3" as a Sequential's would be, so state_dict names match PyTorch's Sequential block (f.0.0.weight,
/// f.0.1.running_mean, …).
/// <code>
///   forward:   y = dropout(relu(bn(conv(x))))
///   backward:  dx = conv.backward(bn.backward(relu.backward(dropout.backward(dy))))
/// </code>
/// Speed: for float on AVX2 (<see cref="Fuse"/> on, no fixed dropout mask) BatchNorm2d, ReLU and Dropout run as one
/// fused pass over the data (Kernels/BnReluDropout.cs: the same math without writing the two intermediate tensors);
/// otherwise, and whenever <see cref="Fuse"/> is false, the four layers run one after the other exactly as written
/// above. Tests compare the two.
/// </summary>
public sealed class ConvBnReluDropout<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private bool _fusedLast;   // the last Forward ran the fused kernel

    public ConvBnReluDropout(Conv2d<T> conv, BatchNorm2d<T> norm, ReLU<T> relu, Dropout<T> dropout)
    {
        Conv = RegisterModule("0", conv);
        Norm = RegisterModule("1", norm);
        Relu = RegisterModule("2", relu);
        Dropout = RegisterModule("3", dropout);
    }

    public Conv2d<T> Conv { get; }
    public BatchNorm2d<T> Norm { get; }
    public ReLU<T> Relu { get; }
    public Dropout<T> Dropout { get; }

    /// <summary>Run BatchNorm2d → ReLU → Dropout as one fused kernel when it can (float, AVX2); false runs the layers one by one.</summary>
    public bool Fuse { get; set; } = true;

    private bool CanFuse => Fuse && typeof(T) == typeof(float) && Kernels.BnReluDropout.IsSupported && !Dropout.HasFixedMask;

    public override Tensor<T> Forward(Tensor<T> input) => ForwardActivation(Conv.Forward(input));

    public override Tensor<T> Backward(Tensor<T> gradOutput) => Conv.Backward(BackwardActivation(gradOutput));

    /// <summary>
    /// The block after its convolution: BatchNorm2d → ReLU → Dropout of the convolution's output <paramref name="z"/>
    /// (fused when it can). Forward(x) = ForwardActivation(Conv.Forward(x)); a profiler times the two halves apart.
    /// </summary>
    public Tensor<T> ForwardActivation(Tensor<T> z)
    {
        _fusedLast = CanFuse;
        if (_fusedLast) return Norm.ForwardFused(z, Dropout);
        return Dropout.Forward(Relu.Forward(Norm.Forward(z)));
    }

    /// <summary>Back through Dropout, ReLU and BatchNorm2d: ∂L/∂output → ∂L/∂(convolution's output). Backward(dy) = Conv.Backward(BackwardActivation(dy)).</summary>
    public Tensor<T> BackwardActivation(Tensor<T> gradOutput) =>
        // The fused BatchNorm2d's backward goes back through Dropout and ReLU too.
        _fusedLast ? Norm.Backward(gradOutput) : Norm.Backward(Relu.Backward(Dropout.Backward(gradOutput)));
}
