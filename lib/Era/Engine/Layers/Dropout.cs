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
    private Tensor<T>? _output, _gradInput, _mask, _fixedKeep;   // the mask is kept for backward; buffers are reused
    private bool _active;

    private readonly Generator? _generator;

    public Dropout(double p = 0.5, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentException($"Dropout: probability must be in [0, 1], got {p}");
        P = p;
        _generator = generator;
    }

    public double P { get; }

    /// <summary>Where the per-call seeds come from: the constructor's generator, else torch.default_generator (looked up at each call).</summary>
    public Generator Generator => _generator ?? torch.default_generator;

    /// <summary>Uses this keep pattern (1 = keep, 0 = drop, same shape as the input) instead of random draws; null to go back to random.</summary>
    public void SetFixedMask(Tensor<T>? keep) => _fixedKeep = keep?.Clone();

    /// <summary>The mask m of the last training forward (0 or 1/(1 − p)).</summary>
    public Tensor<T>? Mask => _active ? _mask : null;

    /// <summary>The survivors' factor 1/(1 − p) (0 when p = 1).</summary>
    internal T Scale => P < 1 ? T.One / (T.One - T.CreateChecked(P)) : T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        _active = Training && P > 0;
        if (!_active) return input;                                  // eval (or p = 0): identity
        var m = Buffers.EnsureLike(ref _mask, input);
        var y = Buffers.EnsureLike(ref _output, input);
        if (_fixedKeep is { } keep)
        {
            Shapes.CheckSame("Dropout (fixed mask)", keep, input);
            for (int i = 0; i < m.Numel; i++) m.Data[i] = keep.Data[i] != T.Zero ? Scale : T.Zero;
            Elementwise.Multiply<T>(input.Data, m.Data, y.Data);
        }
        else
            Workers.Run(new DropoutMask(input.Data, m.Data, y.Data, Generator.NextUInt64(), CounterRng.DropThreshold(P), Scale), input.Numel);
        return y;
    }

    /// <summary>
    /// Draws the mask and applies it, chunk by chunk: m[i] = (hash(seed, i) ≥ threshold) ? scale : 0, y = x · m.
    /// Element i's number depends only on the seed and i, not on the chunk it falls in.
    /// </summary>
    private readonly struct DropoutMask(T[] x, T[] m, T[] y, ulong seed, ulong threshold, T scale) : IChunkJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int chunks)
        {
            var (start, end) = Workers.Range(x.Length, chunk, chunks);
            int i = start;
            if (torch.backends.fast.enabled && typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated && threshold < (1UL << 32))
            {
                // The fast path, 8 at a time: m = (hash ≥ threshold) ? scale : 0, y = x · m. Same numbers as the scalar loop below.
                var xf = (float[])(object)x;
                var mf = (float[])(object)m;
                var yf = (float[])(object)y;
                var vt = Vector256.Create((uint)threshold);
                var vs = Vector256.Create(float.CreateChecked(scale));
                for (; i + 8 <= end; i += 8)
                {
                    var keep = Vector256.GreaterThanOrEqual(CounterRng.Hash8(seed, (uint)i), vt).AsSingle();
                    var mv = vs & keep;
                    mv.StoreUnsafe(ref mf[i]);
                    (Vector256.LoadUnsafe(ref xf[i]) * mv).StoreUnsafe(ref yf[i]);
                }
            }
            for (; i < end; i++)
            {
                m[i] = CounterRng.Hash(seed, (uint)i) < threshold ? T.Zero : scale;
                y[i] = x[i] * m[i];
            }
        }
    }

    internal bool HasFixedMask => _fixedKeep is not null;

    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        if (!_active) return gradOutput;
        var m = _mask!;
        Shapes.CheckSame("Dropout.Backward", gradOutput, m);
        var dx = Buffers.EnsureLike(ref _gradInput, gradOutput);
        Workers.Run(new DropoutBackward(gradOutput.Data, m.Data, dx.Data), gradOutput.Numel);
        return dx;
    }

    /// <summary>dx = dy · m, chunk by chunk.</summary>
    private readonly struct DropoutBackward(T[] dy, T[] m, T[] dx) : IChunkJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int chunks)
        {
            var (start, end) = Workers.Range(m.Length, chunk, chunks);
            int len = end - start;
            Elementwise.Multiply<T>(dy.AsSpan(start, len), m.AsSpan(start, len), dx.AsSpan(start, len)); // dx = dy · m
        }
    }
}
