using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Era.Engine.Kernels;

/// <summary>
/// The two SIMD micro-kernels behind <see cref="FastConv2d"/> (float, AVX2 + FMA: 8 floats per register), each with
/// an AVX-512 twin (16 floats per register, the same register blocking) that <see cref="VectorBits"/> picks at start-up.
/// Measured 2026-12-02 on an Intel Xeon with AVX-512 (CPU time, one thread, reference net's 16→16 3×3 on 24×24, batch
/// 128, machine shared): forward 5.7–7.0 ms at 256 bits, 4.2–4.6 ms at 512; backward 12.7–13.6 and 9.0–10.7 ms.
///
/// "Wide" layout: an image plane padded to width Wp is stored row after row, so pixel (i, j) is at p = i·Wp + j and
/// the input a 3×3 kernel tap (u, v) of channel c needs for output p sits at p + off, off = c·Hp·Wp + u·Wp + v.
/// A convolution is then out[o, p] = Σ_t W[o, t] · in[p + off[t]] over the taps t = (c, u, v): a matrix product
/// whose right-hand matrix is the input read at shifted addresses (an im2col that is never materialized).
/// Columns j ≥ Wo of a wide output row are garbage and are dropped by the caller.
/// </summary>
public static unsafe class ConvKernels
{
    public static bool IsSupported => Fma.IsSupported && Avx2.IsSupported;

    /// <summary>Whether this CPU runs 512-bit vectors at full speed (AVX-512F; .NET's own judgement of "accelerated").</summary>
    public static bool Is512Supported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// The vector width the kernels use: 512 where <see cref="Is512Supported"/>, else 256; chosen once at start-up
    /// (<c>ERA_VECTOR_BITS=256</c> holds a machine to the AVX2 kernels, for comparison). Tests set it to run both paths.
    /// </summary>
    public static int VectorBits
    {
        get => _vectorBits;
        set => _vectorBits = value switch
        {
            256 => 256,
            512 when Is512Supported => 512,
            _ => throw new ArgumentException($"ConvKernels: {value}-bit vectors are not available here ({(Is512Supported ? "256, 512" : "256")})"),
        };
    }

    private static int _vectorBits = Is512Supported && Environment.GetEnvironmentVariable("ERA_VECTOR_BITS") != "256" ? 512 : 256;

    /// <summary>Pixels per block of <see cref="Forward"/> at the current width (24 for AVX2, 48 for AVX-512): P must be a multiple.</summary>
    public static int PixelBlock => VectorBits == 512 ? 48 : 24;

    /// <summary>Pixels per step of <see cref="WeightGrad"/> at the current width (8 or 16): P8 must be a multiple.</summary>
    public static int GradBlock => VectorBits == 512 ? 16 : 8;

    /// <summary>
    /// out[o, p] = Σ_t W[o, t] · in[p + off[t]] for o in blocks of 4, p in [0, P) with P a multiple of 24.
    /// Register blocking: 4 output channels × 24 pixels = 12 accumulators; per tap, 3 input loads and 4 weight
    /// broadcasts feed 12 FMAs. wPacked is [o/4][t][4] so the four weights of a tap are adjacent.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* input, int* off, int taps, float* wPacked, int oBlocks, float* output, int p24)
    {
        if (VectorBits == 512)
        {
            Forward512(input, off, taps, wPacked, oBlocks, output, p24);
            return;
        }
        for (int ob = 0; ob < oBlocks; ob++)
        {
            float* wb = wPacked + ob * taps * 4;
            float* o0 = output + ob * 4 * p24, o1 = o0 + p24, o2 = o1 + p24, o3 = o2 + p24;
            for (int p = 0; p < p24; p += 24)
            {
                Vector256<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
                Vector256<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
                float* inP = input + p;
                for (int t = 0; t < taps; t++)
                {
                    float* src = inP + off[t];
                    var x0 = Avx.LoadVector256(src);
                    var x1 = Avx.LoadVector256(src + 8);
                    var x2 = Avx.LoadVector256(src + 16);
                    float* w = wb + t * 4;
                    var w0 = Vector256.Create(w[0]);
                    a00 = Fma.MultiplyAdd(w0, x0, a00); a01 = Fma.MultiplyAdd(w0, x1, a01); a02 = Fma.MultiplyAdd(w0, x2, a02);
                    var w1 = Vector256.Create(w[1]);
                    a10 = Fma.MultiplyAdd(w1, x0, a10); a11 = Fma.MultiplyAdd(w1, x1, a11); a12 = Fma.MultiplyAdd(w1, x2, a12);
                    var w2 = Vector256.Create(w[2]);
                    a20 = Fma.MultiplyAdd(w2, x0, a20); a21 = Fma.MultiplyAdd(w2, x1, a21); a22 = Fma.MultiplyAdd(w2, x2, a22);
                    var w3 = Vector256.Create(w[3]);
                    a30 = Fma.MultiplyAdd(w3, x0, a30); a31 = Fma.MultiplyAdd(w3, x1, a31); a32 = Fma.MultiplyAdd(w3, x2, a32);
                }
                Avx.Store(o0 + p, a00); Avx.Store(o0 + p + 8, a01); Avx.Store(o0 + p + 16, a02);
                Avx.Store(o1 + p, a10); Avx.Store(o1 + p + 8, a11); Avx.Store(o1 + p + 16, a12);
                Avx.Store(o2 + p, a20); Avx.Store(o2 + p + 8, a21); Avx.Store(o2 + p + 16, a22);
                Avx.Store(o3 + p, a30); Avx.Store(o3 + p + 8, a31); Avx.Store(o3 + p + 16, a32);
            }
        }
    }

    /// <summary>
    /// <see cref="Forward"/> with 16-float vectors, P a multiple of 48. AVX-512 has 32 registers, so output channels go
    /// two blocks (8 channels) at a time: 8 × 48 pixels = 24 accumulators, and per tap 3 input loads and 8 weight
    /// broadcasts feed 24 FMAs (the 4-channel block's 12 FMAs needed 7 loads). A last odd block runs 4 × 48.
    /// Each output sums the same products in the same order (tap by tap) as the 256-bit kernel: the same numbers, bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward512(float* input, int* off, int taps, float* wPacked, int oBlocks, float* output, int p48)
    {
        int ob = 0;
        for (; ob + 2 <= oBlocks; ob += 2)
            for (int p = 0; p < p48; p += 48)
                Forward512Block8(input + p, off, taps, wPacked + ob * taps * 4, output + ob * 4 * p48 + p, p48);
        for (; ob < oBlocks; ob++)
            for (int p = 0; p < p48; p += 48)
                Forward512Block4(input + p, off, taps, wPacked + ob * taps * 4, output + ob * 4 * p48 + p, p48);
    }

    /// <summary>Output channels 4·ob … 4·ob + 7, pixels p … p + 47: 24 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward512Block8(float* inP, int* off, int taps, float* wa, float* o0, int p48)
    {
        float* wb = wa + taps * 4;   // the second block of 4 channels' weights
        Vector512<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        Vector512<float> b00 = default, b01 = default, b02 = default, b10 = default, b11 = default, b12 = default;
        Vector512<float> b20 = default, b21 = default, b22 = default, b30 = default, b31 = default, b32 = default;
        for (int t = 0; t < taps; t++)
        {
            float* src = inP + off[t];
            var x0 = Avx512F.LoadVector512(src);
            var x1 = Avx512F.LoadVector512(src + 16);
            var x2 = Avx512F.LoadVector512(src + 32);
            float* w = wa + t * 4, v = wb + t * 4;
            var w0 = Vector512.Create(w[0]);
            a00 = Avx512F.FusedMultiplyAdd(w0, x0, a00); a01 = Avx512F.FusedMultiplyAdd(w0, x1, a01); a02 = Avx512F.FusedMultiplyAdd(w0, x2, a02);
            var w1 = Vector512.Create(w[1]);
            a10 = Avx512F.FusedMultiplyAdd(w1, x0, a10); a11 = Avx512F.FusedMultiplyAdd(w1, x1, a11); a12 = Avx512F.FusedMultiplyAdd(w1, x2, a12);
            var w2 = Vector512.Create(w[2]);
            a20 = Avx512F.FusedMultiplyAdd(w2, x0, a20); a21 = Avx512F.FusedMultiplyAdd(w2, x1, a21); a22 = Avx512F.FusedMultiplyAdd(w2, x2, a22);
            var w3 = Vector512.Create(w[3]);
            a30 = Avx512F.FusedMultiplyAdd(w3, x0, a30); a31 = Avx512F.FusedMultiplyAdd(w3, x1, a31); a32 = Avx512F.FusedMultiplyAdd(w3, x2, a32);
            var v0 = Vector512.Create(v[0]);
            b00 = Avx512F.FusedMultiplyAdd(v0, x0, b00); b01 = Avx512F.FusedMultiplyAdd(v0, x1, b01); b02 = Avx512F.FusedMultiplyAdd(v0, x2, b02);
            var v1 = Vector512.Create(v[1]);
            b10 = Avx512F.FusedMultiplyAdd(v1, x0, b10); b11 = Avx512F.FusedMultiplyAdd(v1, x1, b11); b12 = Avx512F.FusedMultiplyAdd(v1, x2, b12);
            var v2 = Vector512.Create(v[2]);
            b20 = Avx512F.FusedMultiplyAdd(v2, x0, b20); b21 = Avx512F.FusedMultiplyAdd(v2, x1, b21); b22 = Avx512F.FusedMultiplyAdd(v2, x2, b22);
            var v3 = Vector512.Create(v[3]);
            b30 = Avx512F.FusedMultiplyAdd(v3, x0, b30); b31 = Avx512F.FusedMultiplyAdd(v3, x1, b31); b32 = Avx512F.FusedMultiplyAdd(v3, x2, b32);
        }
        Store3(o0, a00, a01, a02);
        Store3(o0 + p48, a10, a11, a12);
        Store3(o0 + 2 * p48, a20, a21, a22);
        Store3(o0 + 3 * p48, a30, a31, a32);
        Store3(o0 + 4 * p48, b00, b01, b02);
        Store3(o0 + 5 * p48, b10, b11, b12);
        Store3(o0 + 6 * p48, b20, b21, b22);
        Store3(o0 + 7 * p48, b30, b31, b32);
    }

    /// <summary>Output channels 4·ob … 4·ob + 3, pixels p … p + 47: 12 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward512Block4(float* inP, int* off, int taps, float* wb, float* o0, int p48)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        for (int t = 0; t < taps; t++)
        {
            float* src = inP + off[t];
            var x0 = Avx512F.LoadVector512(src);
            var x1 = Avx512F.LoadVector512(src + 16);
            var x2 = Avx512F.LoadVector512(src + 32);
            float* w = wb + t * 4;
            var w0 = Vector512.Create(w[0]);
            a00 = Avx512F.FusedMultiplyAdd(w0, x0, a00); a01 = Avx512F.FusedMultiplyAdd(w0, x1, a01); a02 = Avx512F.FusedMultiplyAdd(w0, x2, a02);
            var w1 = Vector512.Create(w[1]);
            a10 = Avx512F.FusedMultiplyAdd(w1, x0, a10); a11 = Avx512F.FusedMultiplyAdd(w1, x1, a11); a12 = Avx512F.FusedMultiplyAdd(w1, x2, a12);
            var w2 = Vector512.Create(w[2]);
            a20 = Avx512F.FusedMultiplyAdd(w2, x0, a20); a21 = Avx512F.FusedMultiplyAdd(w2, x1, a21); a22 = Avx512F.FusedMultiplyAdd(w2, x2, a22);
            var w3 = Vector512.Create(w[3]);
            a30 = Avx512F.FusedMultiplyAdd(w3, x0, a30); a31 = Avx512F.FusedMultiplyAdd(w3, x1, a31); a32 = Avx512F.FusedMultiplyAdd(w3, x2, a32);
        }
        Store3(o0, a00, a01, a02);
        Store3(o0 + p48, a10, a11, a12);
        Store3(o0 + 2 * p48, a20, a21, a22);
        Store3(o0 + 3 * p48, a30, a31, a32);
    }

    private static void Store3(float* dst, Vector512<float> a, Vector512<float> b, Vector512<float> c)
    {
        Avx512F.Store(dst, a);
        Avx512F.Store(dst + 16, b);
        Avx512F.Store(dst + 32, c);
    }

    /// <summary>
    /// Weight gradient: dW8[o, t, lane] += Σ_{p ≡ lane mod 8} dy[o, p] · in[p + off[t]], p in [0, P8), P8 a multiple
    /// of 8 (dy is zero in the garbage columns). The 8 lanes are summed later, in a fixed order, by the caller.
    /// Register blocking: 4 output channels × 3 taps = 12 accumulators; per 8 pixels, 4 + 3 loads feed 12 FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGrad(float* input, int* off, int taps, float* dy, int oBlocks, int p8, float* dW8)
    {
        if (VectorBits == 512)
        {
            WeightGrad512(input, off, taps, dy, oBlocks, p8, dW8);
            return;
        }
        for (int ob = 0; ob < oBlocks; ob++)
        {
            float* d0 = dy + ob * 4 * p8, d1 = d0 + p8, d2 = d1 + p8, d3 = d2 + p8;
            float* g0 = dW8 + ob * 4 * taps * 8, g1 = g0 + taps * 8, g2 = g1 + taps * 8, g3 = g2 + taps * 8;
            int t = 0;
            for (; t + 3 <= taps; t += 3)
            {
                Vector256<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
                Vector256<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
                float* s0 = input + off[t], s1 = input + off[t + 1], s2 = input + off[t + 2];
                for (int p = 0; p < p8; p += 8)
                {
                    var x0 = Avx.LoadVector256(s0 + p);
                    var x1 = Avx.LoadVector256(s1 + p);
                    var x2 = Avx.LoadVector256(s2 + p);
                    var y0 = Avx.LoadVector256(d0 + p);
                    a00 = Fma.MultiplyAdd(y0, x0, a00); a01 = Fma.MultiplyAdd(y0, x1, a01); a02 = Fma.MultiplyAdd(y0, x2, a02);
                    var y1 = Avx.LoadVector256(d1 + p);
                    a10 = Fma.MultiplyAdd(y1, x0, a10); a11 = Fma.MultiplyAdd(y1, x1, a11); a12 = Fma.MultiplyAdd(y1, x2, a12);
                    var y2 = Avx.LoadVector256(d2 + p);
                    a20 = Fma.MultiplyAdd(y2, x0, a20); a21 = Fma.MultiplyAdd(y2, x1, a21); a22 = Fma.MultiplyAdd(y2, x2, a22);
                    var y3 = Avx.LoadVector256(d3 + p);
                    a30 = Fma.MultiplyAdd(y3, x0, a30); a31 = Fma.MultiplyAdd(y3, x1, a31); a32 = Fma.MultiplyAdd(y3, x2, a32);
                }
                Add(g0 + t * 8, a00, a01, a02);
                Add(g1 + t * 8, a10, a11, a12);
                Add(g2 + t * 8, a20, a21, a22);
                Add(g3 + t * 8, a30, a31, a32);
            }
            for (; t < taps; t++)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                float* s0 = input + off[t];
                for (int p = 0; p < p8; p += 8)
                {
                    var x0 = Avx.LoadVector256(s0 + p);
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(d0 + p), x0, a0);
                    a1 = Fma.MultiplyAdd(Avx.LoadVector256(d1 + p), x0, a1);
                    a2 = Fma.MultiplyAdd(Avx.LoadVector256(d2 + p), x0, a2);
                    a3 = Fma.MultiplyAdd(Avx.LoadVector256(d3 + p), x0, a3);
                }
                Avx.Store(g0 + t * 8, Avx.Add(Avx.LoadVector256(g0 + t * 8), a0));
                Avx.Store(g1 + t * 8, Avx.Add(Avx.LoadVector256(g1 + t * 8), a1));
                Avx.Store(g2 + t * 8, Avx.Add(Avx.LoadVector256(g2 + t * 8), a2));
                Avx.Store(g3 + t * 8, Avx.Add(Avx.LoadVector256(g3 + t * 8), a3));
            }
        }
    }

    /// <summary>
    /// <see cref="WeightGrad"/> with 16-float vectors over P a multiple of 16: the 16 lanes fold into the same 8 partial
    /// sums (lane j and j + 8) at the end of each tap block, so dW8's layout and the caller's reduction are unchanged.
    /// As in <see cref="Forward512"/>, output channels go 8 at a time (24 accumulators: per 16 pixels 3 input and 8 dy
    /// loads feed 24 FMAs), a last odd block of 4 as the 256-bit kernel does; each sum is formed in the same order either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGrad512(float* input, int* off, int taps, float* dy, int oBlocks, int p16, float* dW8)
    {
        int ob = 0;
        for (; ob + 2 <= oBlocks; ob += 2)
        {
            float* d = dy + ob * 4 * p16, g = dW8 + ob * 4 * taps * 8;
            int t = 0;
            for (; t + 3 <= taps; t += 3) WeightGrad512Block8(input, off + t, d, p16, g + t * 8, taps * 8);
            for (; t < taps; t++)
            {
                WeightGrad512Tap(input + off[t], d, p16, g + t * 8, taps * 8);
                WeightGrad512Tap(input + off[t], d + 4 * p16, p16, g + 4 * taps * 8 + t * 8, taps * 8);
            }
        }
        for (; ob < oBlocks; ob++)
        {
            float* d = dy + ob * 4 * p16, g = dW8 + ob * 4 * taps * 8;
            int t = 0;
            for (; t + 3 <= taps; t += 3) WeightGrad512Block4(input, off + t, d, p16, g + t * 8, taps * 8);
            for (; t < taps; t++) WeightGrad512Tap(input + off[t], d, p16, g + t * 8, taps * 8);
        }
    }

    /// <summary>Taps t … t + 2 of output channels o … o + 7 (dy rows d, d + P, …; dW8 rows g, g + stride, …): 24 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGrad512Block8(float* input, int* off, float* d0, int p16, float* g0, int stride)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        Vector512<float> b00 = default, b01 = default, b02 = default, b10 = default, b11 = default, b12 = default;
        Vector512<float> b20 = default, b21 = default, b22 = default, b30 = default, b31 = default, b32 = default;
        float* s0 = input + off[0], s1 = input + off[1], s2 = input + off[2];
        float* d1 = d0 + p16, d2 = d1 + p16, d3 = d2 + p16, e0 = d3 + p16, e1 = e0 + p16, e2 = e1 + p16, e3 = e2 + p16;
        for (int p = 0; p < p16; p += 16)
        {
            var x0 = Avx512F.LoadVector512(s0 + p);
            var x1 = Avx512F.LoadVector512(s1 + p);
            var x2 = Avx512F.LoadVector512(s2 + p);
            var y = Avx512F.LoadVector512(d0 + p);
            a00 = Avx512F.FusedMultiplyAdd(y, x0, a00); a01 = Avx512F.FusedMultiplyAdd(y, x1, a01); a02 = Avx512F.FusedMultiplyAdd(y, x2, a02);
            y = Avx512F.LoadVector512(d1 + p);
            a10 = Avx512F.FusedMultiplyAdd(y, x0, a10); a11 = Avx512F.FusedMultiplyAdd(y, x1, a11); a12 = Avx512F.FusedMultiplyAdd(y, x2, a12);
            y = Avx512F.LoadVector512(d2 + p);
            a20 = Avx512F.FusedMultiplyAdd(y, x0, a20); a21 = Avx512F.FusedMultiplyAdd(y, x1, a21); a22 = Avx512F.FusedMultiplyAdd(y, x2, a22);
            y = Avx512F.LoadVector512(d3 + p);
            a30 = Avx512F.FusedMultiplyAdd(y, x0, a30); a31 = Avx512F.FusedMultiplyAdd(y, x1, a31); a32 = Avx512F.FusedMultiplyAdd(y, x2, a32);
            y = Avx512F.LoadVector512(e0 + p);
            b00 = Avx512F.FusedMultiplyAdd(y, x0, b00); b01 = Avx512F.FusedMultiplyAdd(y, x1, b01); b02 = Avx512F.FusedMultiplyAdd(y, x2, b02);
            y = Avx512F.LoadVector512(e1 + p);
            b10 = Avx512F.FusedMultiplyAdd(y, x0, b10); b11 = Avx512F.FusedMultiplyAdd(y, x1, b11); b12 = Avx512F.FusedMultiplyAdd(y, x2, b12);
            y = Avx512F.LoadVector512(e2 + p);
            b20 = Avx512F.FusedMultiplyAdd(y, x0, b20); b21 = Avx512F.FusedMultiplyAdd(y, x1, b21); b22 = Avx512F.FusedMultiplyAdd(y, x2, b22);
            y = Avx512F.LoadVector512(e3 + p);
            b30 = Avx512F.FusedMultiplyAdd(y, x0, b30); b31 = Avx512F.FusedMultiplyAdd(y, x1, b31); b32 = Avx512F.FusedMultiplyAdd(y, x2, b32);
        }
        Add(g0, Fold(a00), Fold(a01), Fold(a02));
        Add(g0 + stride, Fold(a10), Fold(a11), Fold(a12));
        Add(g0 + 2 * stride, Fold(a20), Fold(a21), Fold(a22));
        Add(g0 + 3 * stride, Fold(a30), Fold(a31), Fold(a32));
        Add(g0 + 4 * stride, Fold(b00), Fold(b01), Fold(b02));
        Add(g0 + 5 * stride, Fold(b10), Fold(b11), Fold(b12));
        Add(g0 + 6 * stride, Fold(b20), Fold(b21), Fold(b22));
        Add(g0 + 7 * stride, Fold(b30), Fold(b31), Fold(b32));
    }

    /// <summary>Taps t … t + 2 of output channels o … o + 3: 12 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGrad512Block4(float* input, int* off, float* d0, int p16, float* g0, int stride)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        float* s0 = input + off[0], s1 = input + off[1], s2 = input + off[2];
        float* d1 = d0 + p16, d2 = d1 + p16, d3 = d2 + p16;
        for (int p = 0; p < p16; p += 16)
        {
            var x0 = Avx512F.LoadVector512(s0 + p);
            var x1 = Avx512F.LoadVector512(s1 + p);
            var x2 = Avx512F.LoadVector512(s2 + p);
            var y = Avx512F.LoadVector512(d0 + p);
            a00 = Avx512F.FusedMultiplyAdd(y, x0, a00); a01 = Avx512F.FusedMultiplyAdd(y, x1, a01); a02 = Avx512F.FusedMultiplyAdd(y, x2, a02);
            y = Avx512F.LoadVector512(d1 + p);
            a10 = Avx512F.FusedMultiplyAdd(y, x0, a10); a11 = Avx512F.FusedMultiplyAdd(y, x1, a11); a12 = Avx512F.FusedMultiplyAdd(y, x2, a12);
            y = Avx512F.LoadVector512(d2 + p);
            a20 = Avx512F.FusedMultiplyAdd(y, x0, a20); a21 = Avx512F.FusedMultiplyAdd(y, x1, a21); a22 = Avx512F.FusedMultiplyAdd(y, x2, a22);
            y = Avx512F.LoadVector512(d3 + p);
            a30 = Avx512F.FusedMultiplyAdd(y, x0, a30); a31 = Avx512F.FusedMultiplyAdd(y, x1, a31); a32 = Avx512F.FusedMultiplyAdd(y, x2, a32);
        }
        Add(g0, Fold(a00), Fold(a01), Fold(a02));
        Add(g0 + stride, Fold(a10), Fold(a11), Fold(a12));
        Add(g0 + 2 * stride, Fold(a20), Fold(a21), Fold(a22));
        Add(g0 + 3 * stride, Fold(a30), Fold(a31), Fold(a32));
    }

    /// <summary>One tap (input at s) of output channels o … o + 3: the remainder when the taps are not a multiple of 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGrad512Tap(float* s, float* d0, int p16, float* g0, int stride)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        float* d1 = d0 + p16, d2 = d1 + p16, d3 = d2 + p16;
        for (int p = 0; p < p16; p += 16)
        {
            var x = Avx512F.LoadVector512(s + p);
            a0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(d0 + p), x, a0);
            a1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(d1 + p), x, a1);
            a2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(d2 + p), x, a2);
            a3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(d3 + p), x, a3);
        }
        Avx.Store(g0, Avx.Add(Avx.LoadVector256(g0), Fold(a0)));
        Avx.Store(g0 + stride, Avx.Add(Avx.LoadVector256(g0 + stride), Fold(a1)));
        Avx.Store(g0 + 2 * stride, Avx.Add(Avx.LoadVector256(g0 + 2 * stride), Fold(a2)));
        Avx.Store(g0 + 3 * stride, Avx.Add(Avx.LoadVector256(g0 + 3 * stride), Fold(a3)));
    }

    /// <summary>Lanes j and j + 8 of a 16-float vector added: 8 partial sums.</summary>
    private static Vector256<float> Fold(Vector512<float> v) => Avx.Add(v.GetLower(), v.GetUpper());

    private static void Add(float* g, Vector256<float> a, Vector256<float> b, Vector256<float> c)
    {
        Avx.Store(g, Avx.Add(Avx.LoadVector256(g), a));
        Avx.Store(g + 8, Avx.Add(Avx.LoadVector256(g + 8), b));
        Avx.Store(g + 16, Avx.Add(Avx.LoadVector256(g + 16), c));
    }

    /// <summary>dst[j] = src[j] + add for j &lt; n. Rows here are a few dozen floats: an inline vector loop beats Array.Copy's call overhead.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyRow(float* src, float* dst, int n, float add = 0f)
    {
        int j = 0;
        var va = Vector256.Create(add);
        for (; j + 8 <= n; j += 8) Avx.Store(dst + j, Avx.Add(Avx.LoadVector256(src + j), va));
        for (; j < n; j++) dst[j] = src[j] + add;
    }

    /// <summary>Copies a row to two places and returns its sum (lanes summed in a fixed order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float CopyRowTwiceAndSum(float* src, float* dstA, float* dstB, int n)
    {
        int j = 0;
        var acc = Vector256<float>.Zero;
        for (; j + 8 <= n; j += 8)
        {
            var v = Avx.LoadVector256(src + j);
            Avx.Store(dstA + j, v);
            Avx.Store(dstB + j, v);
            acc = Avx.Add(acc, v);
        }
        float sum = Vector256.Sum(acc);
        for (; j < n; j++)
        {
            dstA[j] = dstB[j] = src[j];
            sum += src[j];
        }
        return sum;
    }
}
