using System.Numerics;
using Era.Engine.Kernels;

namespace Era.Engine.Layers;

/// <summary>
/// torch.nn.Dropout(p): in training each element is zeroed with probability p and the survivors are scaled by
/// 1/(1 − p) ("inverted" dropout, so eval needs no rescaling); identity in eval mode.
/// y = x · m with m ∈ {0, 1/(1 − p)}; local derivative ∂y/∂x = m, so dx = dy · m (same mask).
/// The mask comes from one seed drawn from <see cref="torch.default_generator"/> per call and a counter-based
/// hash per element (<see cref="CounterRng"/>), so it does not depend on the thread count.
/// Tests can fix the mask with <see cref="SetFixedMask"/>.
/// </summary>
public sealed class Dropout<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output, _gradInput, _mask, _fixedKeep;
    private bool _active;
    private ulong _seed;
    private readonly Action<int> _maskChunk;

    public Dropout(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentException($"Dropout: probability must be in [0, 1], got {p}");
        P = p;
        _maskChunk = MaskChunk;
    }

    public double P { get; }

    /// <summary>Uses this keep pattern (1 = keep, 0 = drop, same shape as the input) instead of random draws; null to go back to random.</summary>
    public void SetFixedMask(Tensor<T>? keep) => _fixedKeep = keep?.Clone();

    /// <summary>The mask m of the last training forward (0 or 1/(1 − p)).</summary>
    public Tensor<T>? Mask => _active ? _mask : null;

    public override Tensor<T> Forward(Tensor<T> input)
    {
        _active = Training && P > 0;
        if (!_active) return input;                                  // eval (or p = 0): identity
        var m = Buffers.EnsureLike(ref _mask, input);
        if (_fixedKeep is { } keep)
        {
            Shapes.CheckSame("Dropout (fixed mask)", keep, input);
            T scale = P < 1 ? T.One / (T.One - T.CreateChecked(P)) : T.Zero;
            for (int i = 0; i < m.Numel; i++) m.Data[i] = keep.Data[i] != T.Zero ? scale : T.Zero;
        }
        else
        {
            _seed = torch.default_generator.NextUInt64();
            Workers.Run(_maskChunk);
        }
        var y = Buffers.EnsureLike(ref _output, input);
        Elementwise.Multiply<T>(input.Data, m.Data, y.Data);          // y = x · m
        return y;
    }

    private void MaskChunk(int chunk)
    {
        var m = _mask!.Data;
        var (start, end) = Workers.Range(m.Length, chunk, Workers.Threads);
        ulong threshold = CounterRng.DropThreshold(P);
        T scale = P < 1 ? T.One / (T.One - T.CreateChecked(P)) : T.Zero;
        for (int i = start; i < end; i++) m[i] = CounterRng.Uniform32(_seed, i) < threshold ? T.Zero : scale;
    }

    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        if (!_active) return gradOutput;
        Shapes.CheckSame("Dropout.Backward", gradOutput, _mask!);
        var dx = Buffers.EnsureLike(ref _gradInput, gradOutput);
        Elementwise.Multiply<T>(gradOutput.Data, _mask!.Data, dx.Data); // dx = dy · m
        return dx;
    }
}
