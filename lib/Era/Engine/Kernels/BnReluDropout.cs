using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Era.Engine.Kernels;

/// <summary>
/// BatchNorm2d → ReLU → Dropout fused into one pass over a plane (float, AVX2+FMA), used by ConvBnReluDropout through
/// BatchNorm2d.ForwardFused. Stateless: each call gets its planes, dropout seed and mask as arguments.
/// Same math as the three layers one after the other, without writing the two intermediate tensors:
///   forward:  y = max(x·scale + shift, 0) · m            (scale = γ/σ, shift = β − μ·γ/σ; m = dropout mask)
///   backward: g = dy · m · [x·scale + shift &gt; 0]        (dropout, then ReLU's derivative)
///             then BatchNorm's dx = a·g + b·x + k, whose coefficients need Σg and Σg·x first (two passes).
/// A null mask means no dropout (m = 1).
/// </summary>
public static unsafe class BnReluDropout
{
    public static bool IsSupported => Fma.IsSupported && Avx2.IsSupported;

    /// <summary>Forward over one plane; element j's dropout number is CounterRng.Hash(seed, start + j), as Dropout's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* x, float* y, float* mask, int len, float scale, float shift,
        ulong seed, uint start, uint threshold, float keepScale)
    {
        int j = 0;
        Vector256<float> vs = Vector256.Create(scale), vb = Vector256.Create(shift), vk = Vector256.Create(keepScale);
        var vt = Vector256.Create(threshold);
        for (; j + 8 <= len; j += 8)
        {
            var r = Avx.Max(Fma.MultiplyAdd(Avx.LoadVector256(x + j), vs, vb), Vector256<float>.Zero);   // ReLU(BN(x))
            if (mask != null)
            {
                var m = vk & Vector256.GreaterThanOrEqual(CounterRng.Hash8(seed, start + (uint)j), vt).AsSingle();
                Avx.Store(mask + j, m);
                r = Avx.Multiply(r, m);                                                                  // · dropout mask
            }
            Avx.Store(y + j, r);
        }
        for (; j < len; j++)
        {
            float r = Math.Max(MathF.FusedMultiplyAdd(x[j], scale, shift), 0f);
            if (mask != null)
            {
                mask[j] = CounterRng.Hash(seed, start + (uint)j) < threshold ? 0f : keepScale;
                r *= mask[j];
            }
            y[j] = r;
        }
    }

    /// <summary>(Σ g, Σ g·x) over one plane, g = dy · m · [x·scale + shift &gt; 0].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float SumG, float SumGX) Sums(float* x, float* dy, float* mask, int len, float scale, float shift)
    {
        int j = 0;
        Vector256<float> vs = Vector256.Create(scale), vb = Vector256.Create(shift), a1 = default, a2 = default;
        for (; j + 8 <= len; j += 8)
        {
            var xv = Avx.LoadVector256(x + j);
            var g = Grad8(xv, dy + j, mask == null ? null : mask + j, vs, vb);
            a1 = Avx.Add(a1, g);
            a2 = Fma.MultiplyAdd(g, xv, a2);
        }
        float s1 = Vector256.Sum(a1), s2 = Vector256.Sum(a2);
        for (; j < len; j++)
        {
            float g = Grad1(x[j], dy[j], mask == null ? 1f : mask[j], scale, shift);
            s1 += g;
            s2 += g * x[j];
        }
        return (s1, s2);
    }

    /// <summary>dx = a·g + b·x + k over one plane, g as in <see cref="Sums"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dx(float* x, float* dy, float* mask, float* dx, int len, float scale, float shift, float a, float b, float k)
    {
        int j = 0;
        Vector256<float> vs = Vector256.Create(scale), vb = Vector256.Create(shift);
        Vector256<float> va = Vector256.Create(a), vbx = Vector256.Create(b), vk = Vector256.Create(k);
        for (; j + 8 <= len; j += 8)
        {
            var xv = Avx.LoadVector256(x + j);
            var g = Grad8(xv, dy + j, mask == null ? null : mask + j, vs, vb);
            Avx.Store(dx + j, Fma.MultiplyAdd(va, g, Fma.MultiplyAdd(vbx, xv, vk)));
        }
        for (; j < len; j++)
            dx[j] = MathF.FusedMultiplyAdd(a, Grad1(x[j], dy[j], mask == null ? 1f : mask[j], scale, shift), MathF.FusedMultiplyAdd(b, x[j], k));
    }

    private static Vector256<float> Grad8(Vector256<float> x, float* dy, float* mask, Vector256<float> scale, Vector256<float> shift)
    {
        var g = Avx.LoadVector256(dy);
        if (mask != null) g = Avx.Multiply(g, Avx.LoadVector256(mask));
        var positive = Avx.CompareGreaterThan(Fma.MultiplyAdd(x, scale, shift), Vector256<float>.Zero);
        return Avx.And(g, positive);
    }

    private static float Grad1(float x, float dy, float m, float scale, float shift) =>
        MathF.FusedMultiplyAdd(x, scale, shift) > 0f ? dy * m : 0f;
}
