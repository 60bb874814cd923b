using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Era.Engine.Kernels;

/// <summary>
/// BatchNorm2d → ReLU → Dropout fused into one pass over a plane (float; AVX2+FMA, or AVX-512 when
/// <see cref="ConvKernels.VectorBits"/> is 512), used by ConvBnReluDropout's fast path. Stateless: each call gets its
/// plane, the dropout seed and BatchNorm's coefficients as arguments. The same math as the three layers one after the
/// other, without writing the two intermediate tensors or the float mask:
///   forward:  y = max(z·scale + shift, 0) · m            (scale = γ/σ, shift = β − μ·γ/σ; m = dropout mask: 0 or keep)
///   backward: g = dy · m · [z·scale + shift &gt; 0] = (y &gt; 0 ? dy · keep : 0)
///             (y &gt; 0 exactly where the element was kept and ReLU let it through), then BatchNorm's dz = a·g + b·z + k,
///             whose coefficients need Σg and Σg·z first (two passes).
/// Forward also writes "y &gt; 0" as one bit per element (<see cref="MaskBytes"/> a plane; bit j of byte j/8), so backward
/// reads 1/32 of y's bytes in each of its two passes instead of y.
/// Without dropout (eval, p = 0) m = keep = 1. Element j's dropout number is CounterRng.Hash(seed, start + j), as Dropout's.
/// </summary>
public static unsafe class BnReluDropout
{
    public static bool IsSupported => Fma.IsSupported && Avx2.IsSupported;

    /// <summary>Bytes of the "y &gt; 0" bits of a plane of <paramref name="len"/> elements (rounded up to 16 bits, as the 512-bit loop stores them).</summary>
    public static int MaskBytes(int len) => (len + 15) / 16 * 2;

    private static Vector512<uint> Bits16 => Vector512.Create(1u, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
    private static Vector256<uint> Bits8 => Vector256.Create(1u, 2, 4, 8, 16, 32, 64, 128);

    /// <summary>Forward over one plane, y and its "y &gt; 0" bits; <paramref name="masked"/>: draw the dropout mask (training with p &gt; 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* z, float* y, byte* positive, int len, float scale, float shift, bool masked, ulong seed, uint start, uint threshold, float keep)
    {
        int j = 0;
        if (ConvKernels.VectorBits == 512)
        {
            Vector512<float> vs = Vector512.Create(scale), vb = Vector512.Create(shift), vk = Vector512.Create(keep);
            var vt = Vector512.Create(threshold);
            for (; j + 16 <= len; j += 16)
            {
                var r = Avx512F.Max(Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(z + j), vs, vb), Vector512<float>.Zero);   // ReLU(BN(z))
                if (masked) r = Avx512F.Multiply(r, vk & Vector512.GreaterThanOrEqual(CounterRng.Hash16(seed, start + (uint)j), vt).AsSingle());
                Avx512F.Store(y + j, r);
                *(ushort*)(positive + j / 8) = (ushort)Vector512.GreaterThan(r, Vector512<float>.Zero).ExtractMostSignificantBits();
            }
        }
        // AVX2, or the last 8 to 15 elements at 512 bits (planes of 5×5 would otherwise spend most of their time in the scalar tail)
        {
            Vector256<float> vs = Vector256.Create(scale), vb = Vector256.Create(shift), vk = Vector256.Create(keep);
            var vt = Vector256.Create(threshold);
            for (; j + 8 <= len; j += 8)
            {
                var r = Avx.Max(Fma.MultiplyAdd(Avx.LoadVector256(z + j), vs, vb), Vector256<float>.Zero);   // ReLU(BN(z))
                if (masked) r = Avx.Multiply(r, vk & Vector256.GreaterThanOrEqual(CounterRng.Hash8(seed, start + (uint)j), vt).AsSingle());
                Avx.Store(y + j, r);
                positive[j / 8] = (byte)Vector256.GreaterThan(r, Vector256<float>.Zero).ExtractMostSignificantBits();
            }
        }
        if (j < len) positive[j / 8] = 0;
        for (; j < len; j++)
        {
            float r = Math.Max(MathF.FusedMultiplyAdd(z[j], scale, shift), 0f);
            if (masked) r *= CounterRng.Hash(seed, start + (uint)j) < threshold ? 0f : keep;
            y[j] = r;
            if (r > 0f) positive[j / 8] |= (byte)(1 << (j & 7));
        }
    }

    private static bool Positive(byte* positive, int j) => (positive[j >> 3] & (1 << (j & 7))) != 0;

    /// <summary>(Σ g, Σ g·z) over one plane, g = (y &gt; 0 ? dy · keep : 0), "y &gt; 0" read from the forward's bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float SumG, float SumGZ) Sums(float* z, byte* positive, float* dy, int len, float keep)
    {
        int j = 0;
        float s1 = 0, s2 = 0;
        if (ConvKernels.VectorBits == 512)
        {
            Vector512<float> vk = Vector512.Create(keep), a1 = default, a2 = default;
            for (; j + 16 <= len; j += 16)
            {
                var g = Grad(positive, j, dy + j, vk);
                a1 = Avx512F.Add(a1, g);
                a2 = Avx512F.FusedMultiplyAdd(g, Avx512F.LoadVector512(z + j), a2);
            }
            s1 = Vector512.Sum(a1);
            s2 = Vector512.Sum(a2);
        }
        {
            Vector256<float> vk = Vector256.Create(keep), a1 = default, a2 = default;
            for (; j + 8 <= len; j += 8)
            {
                var g = Grad(positive, j, dy + j, vk);
                a1 = Avx.Add(a1, g);
                a2 = Fma.MultiplyAdd(g, Avx.LoadVector256(z + j), a2);
            }
            s1 += Vector256.Sum(a1);
            s2 += Vector256.Sum(a2);
        }
        for (; j < len; j++)
        {
            float g = Positive(positive, j) ? dy[j] * keep : 0f;
            s1 += g;
            s2 += g * z[j];
        }
        return (s1, s2);
    }

    /// <summary>dz = a·g + b·z + k over one plane, g as in <see cref="Sums"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dz(float* z, byte* positive, float* dy, float* dz, int len, float keep, float a, float b, float k)
    {
        int j = 0;
        if (ConvKernels.VectorBits == 512)
        {
            Vector512<float> vkeep = Vector512.Create(keep), va = Vector512.Create(a), vb = Vector512.Create(b), vk = Vector512.Create(k);
            for (; j + 16 <= len; j += 16)
                Avx512F.Store(dz + j, Avx512F.FusedMultiplyAdd(va, Grad(positive, j, dy + j, vkeep), Avx512F.FusedMultiplyAdd(vb, Avx512F.LoadVector512(z + j), vk)));
        }
        {
            Vector256<float> vkeep = Vector256.Create(keep), va = Vector256.Create(a), vb = Vector256.Create(b), vk = Vector256.Create(k);
            for (; j + 8 <= len; j += 8)
                Avx.Store(dz + j, Fma.MultiplyAdd(va, Grad(positive, j, dy + j, vkeep), Fma.MultiplyAdd(vb, Avx.LoadVector256(z + j), vk)));
        }
        for (; j < len; j++)
            dz[j] = MathF.FusedMultiplyAdd(a, Positive(positive, j) ? dy[j] * keep : 0f, MathF.FusedMultiplyAdd(b, z[j], k));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Grad(byte* positive, int j, float* dy, Vector512<float> keep) =>
        Avx512F.Multiply(Avx512F.LoadVector512(dy), keep) & Vector512.Equals(Vector512.Create((uint)*(ushort*)(positive + j / 8)) & Bits16, Bits16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Grad(byte* positive, int j, float* dy, Vector256<float> keep) =>
        Avx.And(Avx.Multiply(Avx.LoadVector256(dy), keep), Vector256.Equals(Vector256.Create((uint)positive[j / 8]) & Bits8, Bits8).AsSingle());
}
