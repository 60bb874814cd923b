using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Era.Engine.Kernels;

namespace Era.Engine.Layers;

/// <summary>
/// torch.nn.Dropout(p): in training each element is zeroed with probability p and the survivors are scaled by
/// 1/(1 − p) ("inverted" dropout, so eval needs no rescaling); identity in eval mode.
/// y = x · m with m ∈ {0, 1/(1 − p)}; local derivative ∂y/∂x = m, so dx = dy · m (same mask).
/// The mask comes from one seed drawn per call from the generator given to the constructor (by default
/// <see cref="torch.default_generator"/>, as init and DataLoader) and a counter-based hash per element
/// (<see cref="CounterRng"/>), so it does not depend on the thread count.
/// Tests can fix the mask with <see cref="SetFixedMask"/>.
/// </summary>
public sealed class Dropout<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input, _output, _gradOutput, _gradInput, _mask, _fixedKeep;
    private bool _active;
    private ulong _seed;
    private readonly Action<int> _forwardChunk, _backwardChunk;

    private readonly Generator? _generator;

    public Dropout(double p = 0.5, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentException($"Dropout: probability must be in [0, 1], got {p}");
        P = p;
        _generator = generator;
        _forwardChunk = ForwardChunk;
        _backwardChunk = BackwardChunk;
    }

    public double P { get; }

    /// <summary>Where the per-call seeds come from: the constructor's generator, else torch.default_generator (looked up at each call).</summary>
    public Generator Generator => _generator ?? torch.default_generator;

    /// <summary>Uses this keep pattern (1 = keep, 0 = drop, same shape as the input) instead of random draws; null to go back to random.</summary>
    public void SetFixedMask(Tensor<T>? keep) => _fixedKeep = keep?.Clone();

    /// <summary>The mask m of the last training forward (0 or 1/(1 − p)).</summary>
    public Tensor<T>? Mask => _active ? _mask : null;

    private T Scale => P < 1 ? T.One / (T.One - T.CreateChecked(P)) : T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        _active = Training && P > 0;
        if (!_active) return input;                                  // eval (or p = 0): identity
        _input = input;
        var m = Buffers.EnsureLike(ref _mask, input);
        var y = Buffers.EnsureLike(ref _output, input);
        if (_fixedKeep is { } keep)
        {
            Shapes.CheckSame("Dropout (fixed mask)", keep, input);
            for (int i = 0; i < m.Numel; i++) m.Data[i] = keep.Data[i] != T.Zero ? Scale : T.Zero;
            Elementwise.Multiply<T>(input.Data, m.Data, y.Data);
        }
        else
        {
            _seed = Generator.NextUInt64();
            Workers.Run(_forwardChunk, input.Numel);
        }
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardChunk(int chunk)
    {
        T[] x = _input!.Data, m = _mask!.Data, y = _output!.Data;
        var (start, end) = Workers.Range(x.Length, chunk, Workers.Threads);
        ulong threshold = CounterRng.DropThreshold(P);
        T scale = Scale;
        int i = start;
        if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated && threshold < (1UL << 32))
        {
            // 8 at a time: m = (hash ≥ threshold) ? scale : 0, y = x · m. Same numbers as the scalar loop below.
            var xf = (float[])(object)x;
            var mf = (float[])(object)m;
            var yf = (float[])(object)y;
            var vt = Vector256.Create((uint)threshold);
            var vs = Vector256.Create(float.CreateChecked(scale));
            for (; i + 8 <= end; i += 8)
            {
                var keep = Vector256.GreaterThanOrEqual(CounterRng.Hash8(_seed, (uint)i), vt).AsSingle();
                var mv = vs & keep;
                mv.StoreUnsafe(ref mf[i]);
                (Vector256.LoadUnsafe(ref xf[i]) * mv).StoreUnsafe(ref yf[i]);
            }
        }
        for (; i < end; i++)
        {
            m[i] = CounterRng.Hash(_seed, (uint)i) < threshold ? T.Zero : scale;
            y[i] = x[i] * m[i];
        }
    }

    internal bool HasFixedMask => _fixedKeep is not null;

    /// <summary>
    /// For the fused BatchNorm → ReLU → Dropout kernel: sets up this call as Forward would (draws the seed, sizes
    /// the mask) and returns what the kernel needs; the kernel then fills the mask exactly as Forward would.
    /// </summary>
    internal (T[]? Mask, ulong Seed, ulong Threshold, T KeepScale) BeginFused(Tensor<T> input)
    {
        _active = Training && P > 0;
        if (!_active) return (null, 0, 0, T.One);
        _input = input;
        var m = Buffers.EnsureLike(ref _mask, input);
        _seed = Generator.NextUInt64();
        return (m.Data, _seed, CounterRng.DropThreshold(P), Scale);
    }

    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        if (!_active) return gradOutput;
        Shapes.CheckSame("Dropout.Backward", gradOutput, _mask!);
        _gradOutput = gradOutput;
        Buffers.EnsureLike(ref _gradInput, gradOutput);
        Workers.Run(_backwardChunk, gradOutput.Numel);
        return _gradInput!;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardChunk(int chunk)
    {
        var (start, end) = Workers.Range(_mask!.Numel, chunk, Workers.Threads);
        int len = end - start;
        Elementwise.Multiply<T>(_gradOutput!.Data.AsSpan(start, len), _mask.Data.AsSpan(start, len), _gradInput!.Data.AsSpan(start, len)); // dx = dy · m
    }
}
