using System.Numerics;
using System.Runtime.CompilerServices;
using Era.Engine.Kernels;

namespace Era.Engine.Layers;

/// <summary>
/// The course models' block, Conv2d → BatchNorm2d → ReLU → Dropout, as one module. Its children are named "0", "1",
/// "2", "3" as a Sequential's would be, so state_dict names match PyTorch's Sequential block (f.0.0.weight,
/// f.0.1.running_mean, …).
/// <code>
///   forward:   y = dropout(relu(bn(conv(x))))
///   backward:  dx = conv.backward(fused ? FusedBackward(dy) : bn.backward(relu.backward(dropout.backward(dy))))
/// </code>
/// The readable path runs the four layers one after the other, exactly as written. The fast one (float on AVX2, with
/// <see cref="torch.backends.fast"/> enabled and no fixed dropout mask) runs BatchNorm2d, ReLU and Dropout as one
/// pass over the data (Kernels/BnReluDropout.cs): the same math without writing the two intermediate tensors or the
/// mask (backward needs only where y &gt; 0, an element kept and let through by ReLU: one bit each, written by forward), with
/// BatchNorm2d's own statistics and gradient coefficients and Dropout's generator and mask rule. Tests compare the two.
/// </summary>
public sealed unsafe class ConvBnReluDropout<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // The fused path's state (the layers keep their own for the readable path):
    private bool _fused;                          // the last Forward ran the fused kernel
    private Tensor<T>? _z, _output, _gradZ;       // the convolution's output z, y, ∂L/∂z
    private byte[]? _positive;                    // "y > 0" (kept and let through), one bit per element, BnReluDropout.MaskBytes a plane
    private float _keep;                          // the last fused forward's m for a kept element: 1/(1 − p), or 1 without dropout

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

    private bool CanFuse => torch.backends.fast.enabled && typeof(T) == typeof(float) && BnReluDropout.IsSupported && !Dropout.HasFixedMask;

    public override Tensor<T> Forward(Tensor<T> input)
    {
        var z = Conv.Call(input);
        _fused = CanFuse;
        return _fused ? FusedForward(z) : Dropout.Call(Relu.Call(Norm.Call(z)));
    }

    public override Tensor<T> Backward(Tensor<T> gradOutput) =>
        Conv.CallBackward(_fused ? FusedBackward(gradOutput) : Norm.CallBackward(Relu.CallBackward(Dropout.CallBackward(gradOutput))));

    /// <summary>y = max(z·scale + shift, 0) · m per channel: BatchNorm2d's statistics, then one pass per plane.</summary>
    private Tensor<T> FusedForward(Tensor<T> z)
    {
        Norm.BeginForward(z);
        _z = z;
        bool masked = Training && Dropout.P > 0;
        ulong seed = masked ? Dropout.Generator.NextUInt64() : 0;   // one draw per call, as Dropout.Forward
        uint threshold = masked ? (uint)Math.Min(CounterRng.DropThreshold(Dropout.P), uint.MaxValue) : 0;
        _keep = masked ? float.CreateChecked(Dropout.Scale) : 1f;
        var y = Buffers.EnsureLike(ref _output, z);
        Buffers.Ensure(ref _positive, z.Shape[0] * z.Shape[1] * BnReluDropout.MaskBytes(z.Shape[2] * z.Shape[3]));
        Workers.Run(new FusedForwardJob(this, z, y, masked, seed, threshold));
        Norm.EndForward();
        return y;
    }

    /// <summary>∂L/∂z from ∂L/∂y: g = dy · m · [z·scale + shift &gt; 0] = (y &gt; 0 ? dy · keep : 0), then BatchNorm2d's dz = a·g + b·z + k per channel.</summary>
    private Tensor<T> FusedBackward(Tensor<T> gradOutput)
    {
        var z = _z ?? throw new InvalidOperationException("ConvBnReluDropout.Backward: call Forward first");
        Shapes.CheckSame("ConvBnReluDropout.Backward", gradOutput, z);
        var dz = Buffers.EnsureLike(ref _gradZ, z);
        Workers.Run(new FusedBackwardJob(this, z, gradOutput, dz));
        return dz;
    }

    /// <summary>The fused forward over the channels of this chunk (each channel's statistics stay on one thread).</summary>
    private readonly struct FusedForwardJob(ConvBnReluDropout<T> block, Tensor<T> z, Tensor<T> y, bool masked, ulong seed, uint threshold) : IChunkJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int chunks)
        {
            int channels = block.Norm.NumFeatures, n = z.Shape[0], hw = z.Shape[2] * z.Shape[3];
            var (c0, c1) = Workers.Range(channels, chunk, chunks);
            int mb = BnReluDropout.MaskBytes(hw);
            fixed (float* pz = (float[])(object)z.Data, py = (float[])(object)y.Data)
            fixed (byte* pm = block._positive)
                for (int c = c0; c < c1; c++)
                {
                    var (scale, shift) = block.Norm.Statistics(c, z);
                    float s = float.CreateChecked(scale), b = float.CreateChecked(shift);
                    for (int i = 0; i < n; i++)
                    {
                        int start = (i * channels + c) * hw;
                        BnReluDropout.Forward(pz + start, py + start, pm + (i * channels + c) * mb, hw, s, b, masked, seed, (uint)start, threshold, block._keep);
                    }
                }
        }
    }

    /// <summary>The fused backward over the channels of this chunk: Σg and Σg·z, BatchNorm2d's coefficients (and dγ, dβ), then dz.</summary>
    private readonly struct FusedBackwardJob(ConvBnReluDropout<T> block, Tensor<T> z, Tensor<T> dy, Tensor<T> dz) : IChunkJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int chunks)
        {
            int channels = block.Norm.NumFeatures, n = z.Shape[0], hw = z.Shape[2] * z.Shape[3];
            var (c0, c1) = Workers.Range(channels, chunk, chunks);
            int mb = BnReluDropout.MaskBytes(hw);
            fixed (float* pz = (float[])(object)z.Data, pdy = (float[])(object)dy.Data, pdz = (float[])(object)dz.Data)
            fixed (byte* pm = block._positive)
                for (int c = c0; c < c1; c++)
                {
                    float keep = block._keep;
                    double sumG = 0, sumGZ = 0;
                    for (int i = 0; i < n; i++)
                    {
                        int start = (i * channels + c) * hw;
                        var (a1, a2) = BnReluDropout.Sums(pz + start, pm + (i * channels + c) * mb, pdy + start, hw, keep);
                        sumG += a1;
                        sumGZ += a2;
                    }
                    var (ta, tb, tk) = block.Norm.Coefficients(c, (double)n * hw, sumG, sumGZ);
                    float a = float.CreateChecked(ta), bx = float.CreateChecked(tb), k = float.CreateChecked(tk);
                    for (int i = 0; i < n; i++)
                    {
                        int start = (i * channels + c) * hw;
                        BnReluDropout.Dz(pz + start, pm + (i * channels + c) * mb, pdy + start, pdz + start, hw, keep, a, bx, k);
                    }
                }
        }
    }
}
