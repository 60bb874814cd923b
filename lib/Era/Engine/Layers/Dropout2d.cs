using System.Numerics;
using System.Runtime.CompilerServices;
using Era.Engine.Kernels;

namespace Era.Engine.Layers;

/// <summary>
/// torch.nn.Dropout2d(p): zeroes whole channels — each (n, c) plane of [N, C, H, W] is kept with probability 1 − p
/// and scaled by 1/(1 − p); identity in eval. y = x · m[n, c]; dx = dy · m[n, c].
/// The per-channel mask is drawn like <see cref="Dropout{T}"/>'s (one seed per call, one hash per channel).
/// </summary>
public sealed class Dropout2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output, _gradInput, _fixedKeep;
    private T[]? _mask;      // [N·C]
    private bool _active;

    public Dropout2d(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentException($"Dropout2d: probability must be in [0, 1], got {p}");
        P = p;
    }

    public double P { get; }

    /// <summary>Uses this per-channel keep pattern [N, C] (1 = keep, 0 = drop) instead of random draws; null for random.</summary>
    public void SetFixedMask(Tensor<T>? keep) => _fixedKeep = keep?.Clone();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        Shapes.CheckInput("Dropout2d", input, -1, -1, -1, -1);
        _active = Training && P > 0;
        if (!_active) return input;
        int planes = input.Shape[0] * input.Shape[1], hw = input.Shape[2] * input.Shape[3];
        var m = Buffers.Ensure(ref _mask, planes);
        T scale = P < 1 ? T.One / (T.One - T.CreateChecked(P)) : T.Zero;
        if (_fixedKeep is { } keep)
        {
            Shapes.CheckInput("Dropout2d (fixed mask)", keep, input.Shape[0], input.Shape[1]);
            for (int i = 0; i < planes; i++) m[i] = keep.Data[i] != T.Zero ? scale : T.Zero;
        }
        else
        {
            ulong seed = torch.default_generator.NextUInt64(), threshold = CounterRng.DropThreshold(P);
            for (int i = 0; i < planes; i++) m[i] = CounterRng.Hash(seed, (uint)i) < threshold ? T.Zero : scale;
        }
        var y = Buffers.EnsureLike(ref _output, input);
        for (int i = 0; i < planes; i++) Elementwise.Scale<T>(input.Data.AsSpan(i * hw, hw), m[i], y.Data.AsSpan(i * hw, hw));
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        if (!_active) return gradOutput;
        Shapes.CheckSame("Dropout2d.Backward", gradOutput, _output!);
        var dx = Buffers.EnsureLike(ref _gradInput, gradOutput);
        int hw = gradOutput.Shape[2] * gradOutput.Shape[3];
        for (int i = 0; i < _mask!.Length; i++) Elementwise.Scale<T>(gradOutput.Data.AsSpan(i * hw, hw), _mask[i], dx.Data.AsSpan(i * hw, hw));
        return dx;
    }
}
