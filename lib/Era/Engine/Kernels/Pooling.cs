using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Era.Engine.Kernels;

/// <summary>Float special case of MaxPool2d for the common 2×2 window with stride 2 (the generic loop is in the layer).</summary>
public static unsafe class Pooling
{
    /// <summary>
    /// For planes [p0, p1) of x [planes, h, w]: y[o] = max of the 2×2 window, arg[o] = its flat index in x
    /// (candidates in row-major order, a later one wins only if strictly larger or NaN — PyTorch's rule).
    /// With AVX2, 8 outputs at a time: split 16 inputs of each row into even and odd columns, then compare; a row
    /// of 8 or more outputs ends with one vector that overlaps the previous one instead of a scalar tail.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPool2x2(float[] x, float[] y, int[] arg, int h, int w, int ho, int wo, int p0, int p1)
    {
        bool simd = Avx2.IsSupported && torch.backends.fast.enabled;
        var lane2 = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        fixed (float* px = x, py = y)
        fixed (int* pa = arg)
        {
            for (int plane = p0; plane < p1; plane++)
            {
                int o = plane * ho * wo;
                for (int oy = 0; oy < ho; oy++)
                {
                    int r0 = plane * h * w + 2 * oy * w, r1 = r0 + w;
                    int ox = 0;
                    if (simd && wo >= 8)
                    {
                        for (; ox + 8 <= wo; ox += 8, o += 8) Max8(px, py, pa, r0, w, ox, o, lane2);
                        if (ox < wo)
                        {
                            // The last 1–7 outputs: one more vector ending at the row's end, overlapping outputs
                            // already written (it writes them again with the same values). 2·wo ≤ w: reads stay in the row.
                            Max8(px, py, pa, r0, w, wo - 8, o - (ox - (wo - 8)), lane2);
                            o += wo - ox;
                            ox = wo;
                        }
                    }
                    for (; ox < wo; ox++, o++)
                    {
                        int i = r0 + 2 * ox, best = i;
                        float m = px[i];
                        foreach (int j in (ReadOnlySpan<int>)[i + 1, i + w, i + w + 1])
                            if (px[j] > m || float.IsNaN(px[j])) { m = px[j]; best = j; }
                        py[o] = m;
                        pa[o] = best;
                    }
                }
            }
        }
    }

    /// <summary>Outputs ox … ox + 7 of the row whose windows start at flat index r0 (row below: r0 + w), stored at y[o …], arg[o …].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Max8(float* px, float* py, int* pa, int r0, int w, int ox, int o, Vector256<int> lane2)
    {
        int i = r0 + 2 * ox;
        var first = Vector256.Create(i) + lane2;   // flat index of each window's top-left
        var idx = first;
        var max = Even(px + i);
        Take(Odd(px + i), first + Vector256.Create(1), ref max, ref idx);
        Take(Even(px + i + w), first + Vector256.Create(w), ref max, ref idx);
        Take(Odd(px + i + w), first + Vector256.Create(w + 1), ref max, ref idx);
        Avx.Store(py + o, max);
        Avx.Store(pa + o, idx);
    }

    // Even columns of p[0..16): Shuffle gives [a0 a2 b0 b2 | a4 a6 b4 b6] per 128-bit half, Permute4x64 restores the order.
    private static Vector256<float> Even(float* p) =>
        Avx2.Permute4x64(Avx.Shuffle(Avx.LoadVector256(p), Avx.LoadVector256(p + 8), 0x88).AsDouble(), 0xD8).AsSingle();

    private static Vector256<float> Odd(float* p) =>
        Avx2.Permute4x64(Avx.Shuffle(Avx.LoadVector256(p), Avx.LoadVector256(p + 8), 0xDD).AsDouble(), 0xD8).AsSingle();

    private static void Take(Vector256<float> v, Vector256<int> vIdx, ref Vector256<float> max, ref Vector256<int> idx)
    {
        var take = Avx.Or(Avx.CompareGreaterThan(v, max), Avx.CompareUnordered(v, v));   // v > max or v is NaN
        max = Avx.BlendVariable(max, v, take);
        idx = Avx.BlendVariable(idx.AsSingle(), vIdx.AsSingle(), take).AsInt32();
    }
}
