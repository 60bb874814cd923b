using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Era.Engine.Kernels;

/// <summary>
/// <see cref="FastConv2d"/> for small planes (an output of at most <see cref="MaxPixels"/> pixels, whatever its shape: the course models'
/// 7×7 and 5×5 layers) with 16 images in the 16 lanes of an AVX-512 vector. In FastConv2d's wide layout a row of 5–9
/// pixels fills a fraction of a vector and most of a 48-pixel block is garbage columns (a 5×5 output: 25 useful of 48);
/// here every lane is an image, so every multiply is useful:
/// <code>
///   X[c][i][j][lane]  = x[16g + lane, c, i − p, j − p]   (zero outside the image, and for lanes past the batch)
///   Y[o][i][j][lane]  = Σ_(c,u,v) W[o, c, u, v] · X[c][i + u][j + v][lane]             forward
///   dW[o, c, u, v]   += Σ_(i,j,lane) dY[o][i][j][lane] · X[c][i + u][j + v][lane]       weight gradient
///   dX                = the same forward on dY padded by k − 1 − p, with W flipped and transposed (as FastConv2d)
/// </code>
/// The forward kernel keeps 8 output channels × 3 pixels in 24 accumulators (per tap 3 loads and 8 weight broadcasts
/// feed 24 FMAs), the weight gradient 8 output channels × 3 taps, summed over the pixels of every group; its 16 lanes
/// (the images) are summed at the end in a fixed order, per thread, then over threads in thread order: deterministic.
/// Images are moved into and out of the lane layout with plain loops (a small cost next to the products).
/// </summary>
public sealed unsafe class LanesConv2d
{
    /// <summary>Images per group: the lanes of a 512-bit vector.</summary>
    public const int Lanes = 16;

    /// <summary>
    /// The largest output plane (pixels) run this way: 7×7. Measured 2026-12-02 (AMD EPYC Zen 4, batch 128, 2 threads,
    /// forward + backward with dx, best of 25×3): 16 → 16 on 9×9 (7×7 out) 0.98 ms direct against 0.74 ms here, 7×7 → 5×5
    /// 0.68 against 0.46, 5×5 padding 1 0.63 against 0.34; but 8 → 16 on 11×11 (9×9 out) 0.65 against 0.70.
    /// </summary>
    public const int MaxPixels = 49;

    /// <summary>Whether FastConv2d may use this layout where it applies (default on; <c>ERA_LANES=0</c> turns it off, to compare). Tests set it.</summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("ERA_LANES") != "0";

    /// <summary>Whether an output of <paramref name="outHeight"/> × <paramref name="outWidth"/> runs with images in lanes: 512-bit vectors and a small plane.</summary>
    public static bool Applies(int outHeight, int outWidth) => Enabled && ConvKernels.VectorBits == 512 && outHeight * outWidth <= MaxPixels;

    private readonly int _cin, _cout, _k, _pad, _taps, _tapsB, _o8, _i8;
    private int _h = -1, _w = -1, _threads = -1;
    private int _hp, _wp, _ho, _wo, _q, _hq, _wq;
    private int[] _offX = [], _offDy = [];               // tap offsets (floats) in X and in padded dY
    private readonly float[] _wPack, _wFlip;             // W as [o/8][tap][8]; flipped and transposed as [c/8][tap'][8]
    private float[][] _x = [], _y = [], _dy = [], _dx = [], _dW16 = [], _db = [];   // [thread][…]

    public LanesConv2d(int inChannels, int outChannels, int kernelSize, int padding)
    {
        _cin = inChannels;
        _cout = outChannels;
        _k = kernelSize;
        _pad = padding;
        _taps = inChannels * kernelSize * kernelSize;
        _tapsB = outChannels * kernelSize * kernelSize;
        _o8 = (outChannels + 7) / 8 * 8;
        _i8 = (inChannels + 7) / 8 * 8;
        _wPack = new float[_o8 * _taps];
        _wFlip = new float[_i8 * _tapsB];
    }

    private void Setup(int h, int w)
    {
        if (h == _h && w == _w && _threads == Workers.Threads) return;
        _h = h; _w = w; _threads = Workers.Threads;
        int k = _k;
        _hp = h + 2 * _pad; _wp = w + 2 * _pad;
        _ho = _hp - k + 1; _wo = _wp - k + 1;
        _q = k - 1 - _pad;
        _hq = _ho + 2 * _q; _wq = _wo + 2 * _q;
        _offX = new int[_taps];
        _offDy = new int[_tapsB];
        for (int c = 0; c < _cin; c++)
            for (int u = 0; u < k; u++)
                for (int v = 0; v < k; v++) _offX[(c * k + u) * k + v] = ((c * _hp + u) * _wp + v) * Lanes;
        for (int o = 0; o < _cout; o++)
            for (int u = 0; u < k; u++)
                for (int v = 0; v < k; v++) _offDy[(o * k + u) * k + v] = ((o * _hq + u) * _wq + v) * Lanes;
        _x = Workers.PerChunk(_cin * _hp * _wp * Lanes); _y = Workers.PerChunk(_o8 * _ho * _wo * Lanes);
        _dy = Workers.PerChunk(_o8 * _hq * _wq * Lanes); _dx = Workers.PerChunk(_i8 * h * w * Lanes);
        _dW16 = Workers.PerChunk(_o8 * _taps * Lanes); _db = Workers.PerChunk(_cout);
    }

    /// <summary>y = conv(x, W) + b for x [n, Cin, h, w] and y [n, Cout, Ho, Wo].</summary>
    public void Forward(float[] x, int n, int h, int w, float[] weight, float[]? bias, float[] y)
    {
        Setup(h, w);
        for (int o = 0; o < _o8; o++)
            for (int t = 0; t < _taps; t++)
                _wPack[((o >> 3) * _taps + t) * 8 + (o & 7)] = o < _cout ? weight[o * _taps + t] : 0f;
        Workers.Run(new ForwardJob(this, x, n, bias, y));
    }

    private readonly struct ForwardJob(LanesConv2d conv, float[] x, int n, float[]? bias, float[] y) : IChunkJob
    {
        public void Execute(int chunk, int chunks)
        {
            var (g0, g1) = Workers.Range((n + Lanes - 1) / Lanes, chunk, chunks);
            for (int g = g0; g < g1; g++) conv.ForwardGroup(chunk, g, x, n, bias, y);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardGroup(int chunk, int g, float[] images, int n, float[]? bias, float[] output)
    {
        float[] xl = _x[chunk], yl = _y[chunk];
        ToLanes(images, n, g, _cin, _h, _w, xl, _hp, _wp, _pad);
        fixed (float* px = xl, py = yl, pw = _wPack)
        fixed (int* off = _offX)
            Kernel(px, off, _taps, pw, _o8 / 8, py, _ho, _wo, _wp);
        FromLanes(yl, n, g, _cout, _ho, _wo, output, bias);
    }

    /// <summary>Accumulates dW (and db) and writes dx (unless null), for x [n, Cin, h, w] and dy [n, Cout, Ho, Wo].</summary>
    public void Backward(float[] x, int n, int h, int w, float[] weight, float[] dy, float[] dW, float[]? db, float[]? dx)
    {
        Setup(h, w);
        int k = _k, kk = k * k;
        for (int c = 0; c < _i8; c++)
            for (int o = 0; o < _cout; o++)
                for (int u = 0; u < k; u++)
                    for (int v = 0; v < k; v++)
                        _wFlip[((c >> 3) * _tapsB + (o * k + u) * k + v) * 8 + (c & 7)] =
                            c < _cin ? weight[(o * _cin + c) * kk + (k - 1 - u) * k + (k - 1 - v)] : 0f;
        Workers.Run(new BackwardJob(this, x, n, dy, dx));
        // The per-thread sums of each lane, added in a fixed order (thread, then lane): deterministic.
        for (int i = 0; i < _cout * _taps; i++)
        {
            float s = 0f;
            for (int th = 0; th < _threads; th++)
                for (int lane = 0; lane < Lanes; lane++) s += _dW16[th][i * Lanes + lane];
            dW[i] += s;
        }
        if (db is not null)
            for (int o = 0; o < _cout; o++)
                for (int th = 0; th < _threads; th++) db[o] += _db[th][o];
    }

    private readonly struct BackwardJob(LanesConv2d conv, float[] x, int n, float[] dy, float[]? dx) : IChunkJob
    {
        public void Execute(int chunk, int chunks)
        {
            Array.Clear(conv._dW16[chunk]);
            Array.Clear(conv._db[chunk]);
            var (g0, g1) = Workers.Range((n + Lanes - 1) / Lanes, chunk, chunks);
            for (int g = g0; g < g1; g++) conv.BackwardGroup(chunk, g, x, n, dy, dx);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardGroup(int chunk, int g, float[] images, int n, float[] gradOutput, float[]? gradInput)
    {
        float[] xl = _x[chunk], dyl = _dy[chunk], dxl = _dx[chunk], db = _db[chunk];
        ToLanes(images, n, g, _cin, _h, _w, xl, _hp, _wp, _pad);
        ToLanes(gradOutput, n, g, _cout, _ho, _wo, dyl, _hq, _wq, _q);
        fixed (float* pdy = dyl)   // db += Σ dy: each lane (image) summed over the pixels, then the lanes in order
            for (int o = 0; o < _cout; o++)
            {
                var sum = Vector512<float>.Zero;
                for (int i = 0; i < _ho; i++)
                    for (int j = 0; j < _wo; j++) sum += Avx512F.LoadVector512(pdy + ((o * _hq + i + _q) * _wq + j + _q) * Lanes);
                for (int lane = 0; lane < Lanes; lane++) db[o] += sum.GetElement(lane);
            }
        fixed (float* px = xl, pdy = dyl, pdx = dxl, pg = _dW16[chunk], pwf = _wFlip)
        fixed (int* offX = _offX, offDy = _offDy)
        {
            WeightGrad(px, offX, _taps, pdy + (_q * _wq + _q) * Lanes, _hq * _wq * Lanes, _wq, _o8 / 8, _ho, _wo, _wp, pg);
            if (gradInput is null) return;
            Kernel(pdy, offDy, _tapsB, pwf, _i8 / 8, pdx, _h, _w, _wq);
        }
        FromLanes(dxl, n, g, _cin, _h, _w, gradInput, null);
    }

    /// <summary>
    /// dst[c][i + pad][j + pad][lane] = src[16g + lane, c, i, j] for the images of group g (zeros for lanes past n);
    /// dst's border (pad wide) is never written and stays zero. Pixel by pixel, so dst is written in order (16 images read side by side).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ToLanes(float[] source, int n, int g, int channels, int h, int w, float[] destination, int hp, int wp, int pad)
    {
        int image = channels * h * w, present = Math.Min(Lanes, n - g * Lanes);
        fixed (float* src0 = source, dst0 = destination)
        {
            float* src = src0 + (long)g * Lanes * image;
            for (int c = 0; c < channels; c++)
                for (int i = 0; i < h; i++)
                {
                    float* d = dst0 + ((c * hp + i + pad) * wp + pad) * Lanes;
                    float* s = src + (c * h + i) * w;
                    for (int j = 0; j < w; j++, d += Lanes, s++)
                    {
                        int lane = 0;
                        for (; lane < present; lane++) d[lane] = s[lane * image];
                        for (; lane < Lanes; lane++) d[lane] = 0f;
                    }
                }
        }
    }

    /// <summary>dst[16g + lane, c, i, j] = src[c][i][j][lane] (+ bias[c]) for the images of group g: src read in order, 16 images written side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FromLanes(float[] source, int n, int g, int channels, int h, int w, float[] destination, float[]? bias)
    {
        int hw = h * w, image = channels * hw, present = Math.Min(Lanes, n - g * Lanes);
        fixed (float* src0 = source, dst0 = destination)
        {
            float* dst = dst0 + (long)g * Lanes * image;
            for (int c = 0; c < channels; c++)
            {
                float b = bias is null ? 0f : bias[c];
                float* s = src0 + c * hw * Lanes, d = dst + c * hw;
                for (int p = 0; p < hw; p++, s += Lanes, d++)
                    for (int lane = 0; lane < present; lane++) d[lane * image] = s[lane] + b;
            }
        }
    }

    /// <summary>
    /// out[o][i][j] = Σ_t W[o, t] · in[(i·inWidth + j)·16 + off[t]] (16 lanes) for an output of h × w pixels and output
    /// channels in blocks of 8 (W packed [o/8][t][8]). Pixels go 3 at a time; a last block of 1 or 2 repeats its last
    /// pixel and stores it once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(float* input, int* off, int taps, float* wPacked, int oBlocks, float* output, int h, int w, int inWidth)
    {
        int pixels = h * w;
        for (int ob = 0; ob < oBlocks; ob++)
            for (int p = 0; p < pixels; p += 3)
            {
                int p1 = Math.Min(p + 1, pixels - 1), p2 = Math.Min(p + 2, pixels - 1);
                float* s0 = input + (p / w * inWidth + p % w) * Lanes;
                float* s1 = input + (p1 / w * inWidth + p1 % w) * Lanes;
                float* s2 = input + (p2 / w * inWidth + p2 % w) * Lanes;
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
                Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
                float* wt = wPacked + ob * taps * 8;
                for (int t = 0; t < taps; t++, wt += 8)
                {
                    int at = off[t];
                    var x0 = Avx512F.LoadVector512(s0 + at);
                    var x1 = Avx512F.LoadVector512(s1 + at);
                    var x2 = Avx512F.LoadVector512(s2 + at);
                    var v = Vector512.Create(wt[0]); a0 = Avx512F.FusedMultiplyAdd(v, x0, a0); b0 = Avx512F.FusedMultiplyAdd(v, x1, b0); c0 = Avx512F.FusedMultiplyAdd(v, x2, c0);
                    v = Vector512.Create(wt[1]); a1 = Avx512F.FusedMultiplyAdd(v, x0, a1); b1 = Avx512F.FusedMultiplyAdd(v, x1, b1); c1 = Avx512F.FusedMultiplyAdd(v, x2, c1);
                    v = Vector512.Create(wt[2]); a2 = Avx512F.FusedMultiplyAdd(v, x0, a2); b2 = Avx512F.FusedMultiplyAdd(v, x1, b2); c2 = Avx512F.FusedMultiplyAdd(v, x2, c2);
                    v = Vector512.Create(wt[3]); a3 = Avx512F.FusedMultiplyAdd(v, x0, a3); b3 = Avx512F.FusedMultiplyAdd(v, x1, b3); c3 = Avx512F.FusedMultiplyAdd(v, x2, c3);
                    v = Vector512.Create(wt[4]); a4 = Avx512F.FusedMultiplyAdd(v, x0, a4); b4 = Avx512F.FusedMultiplyAdd(v, x1, b4); c4 = Avx512F.FusedMultiplyAdd(v, x2, c4);
                    v = Vector512.Create(wt[5]); a5 = Avx512F.FusedMultiplyAdd(v, x0, a5); b5 = Avx512F.FusedMultiplyAdd(v, x1, b5); c5 = Avx512F.FusedMultiplyAdd(v, x2, c5);
                    v = Vector512.Create(wt[6]); a6 = Avx512F.FusedMultiplyAdd(v, x0, a6); b6 = Avx512F.FusedMultiplyAdd(v, x1, b6); c6 = Avx512F.FusedMultiplyAdd(v, x2, c6);
                    v = Vector512.Create(wt[7]); a7 = Avx512F.FusedMultiplyAdd(v, x0, a7); b7 = Avx512F.FusedMultiplyAdd(v, x1, b7); c7 = Avx512F.FusedMultiplyAdd(v, x2, c7);
                }
                float* o0 = output + ((ob * 8) * pixels + p) * Lanes;
                int plane = pixels * Lanes;
                Store8(o0, plane, a0, a1, a2, a3, a4, a5, a6, a7);
                if (p + 1 < pixels) Store8(o0 + Lanes, plane, b0, b1, b2, b3, b4, b5, b6, b7);
                if (p + 2 < pixels) Store8(o0 + 2 * Lanes, plane, c0, c1, c2, c3, c4, c5, c6, c7);
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(float* dst, int plane, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7)
    {
        Avx512F.Store(dst, v0);
        Avx512F.Store(dst + plane, v1);
        Avx512F.Store(dst + 2 * plane, v2);
        Avx512F.Store(dst + 3 * plane, v3);
        Avx512F.Store(dst + 4 * plane, v4);
        Avx512F.Store(dst + 5 * plane, v5);
        Avx512F.Store(dst + 6 * plane, v6);
        Avx512F.Store(dst + 7 * plane, v7);
    }

    /// <summary>
    /// g16[o, t, lane] += Σ_(i,j) dy[o][i][j][lane] · in[(i·inWidth + j)·16 + off[t]][lane] over an output of h × w,
    /// dy's planes <paramref name="dyPlane"/> apart with rows <paramref name="dyWidth"/> pixels long. Output channels in
    /// blocks of 8, taps 3 at a time (a last block of 1 or 2 repeats its last tap and adds it once). Rows go in bands of
    /// about 32 pixels, every tap over one band before the next: the band's 8 dy planes and input stay in L1
    /// (sweeping the whole plane per tap re-read 8 dy planes from L2 and was 1.3× slower than the direct kernel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGrad(float* input, int* off, int taps, float* dy, int dyPlane, int dyWidth, int oBlocks, int h, int w, int inWidth, float* g16)
    {
        int band = Math.Max(1, 32 / w);
        for (int ob = 0; ob < oBlocks; ob++)
            for (int i0 = 0; i0 < h; i0 += band)
                WeightGradBand(input, off, taps, dy + ob * 8 * dyPlane, dyPlane, dyWidth, i0, Math.Min(i0 + band, h), w, inWidth, g16 + ob * 8 * taps * Lanes);
    }

    /// <summary>The taps of output channels o … o + 7 (dy planes from d, sums from g) over the rows [i0, i1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradBand(float* input, int* off, int taps, float* d, int dyPlane, int dyWidth, int i0, int i1, int w, int inWidth, float* g16)
    {
        for (int t = 0; t < taps; t += 3)
        {
            int t1 = Math.Min(t + 1, taps - 1), t2 = Math.Min(t + 2, taps - 1);
            int f0 = off[t], f1 = off[t1], f2 = off[t2];
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            for (int i = i0; i < i1; i++)
                for (int j = 0; j < w; j++)
                {
                    float* s = input + (i * inWidth + j) * Lanes;
                    var x0 = Avx512F.LoadVector512(s + f0);
                    var x1 = Avx512F.LoadVector512(s + f1);
                    var x2 = Avx512F.LoadVector512(s + f2);
                    float* e = d + (i * dyWidth + j) * Lanes;
                    var y = Avx512F.LoadVector512(e); a0 = Avx512F.FusedMultiplyAdd(y, x0, a0); b0 = Avx512F.FusedMultiplyAdd(y, x1, b0); c0 = Avx512F.FusedMultiplyAdd(y, x2, c0);
                    y = Avx512F.LoadVector512(e + dyPlane); a1 = Avx512F.FusedMultiplyAdd(y, x0, a1); b1 = Avx512F.FusedMultiplyAdd(y, x1, b1); c1 = Avx512F.FusedMultiplyAdd(y, x2, c1);
                    y = Avx512F.LoadVector512(e + 2 * dyPlane); a2 = Avx512F.FusedMultiplyAdd(y, x0, a2); b2 = Avx512F.FusedMultiplyAdd(y, x1, b2); c2 = Avx512F.FusedMultiplyAdd(y, x2, c2);
                    y = Avx512F.LoadVector512(e + 3 * dyPlane); a3 = Avx512F.FusedMultiplyAdd(y, x0, a3); b3 = Avx512F.FusedMultiplyAdd(y, x1, b3); c3 = Avx512F.FusedMultiplyAdd(y, x2, c3);
                    y = Avx512F.LoadVector512(e + 4 * dyPlane); a4 = Avx512F.FusedMultiplyAdd(y, x0, a4); b4 = Avx512F.FusedMultiplyAdd(y, x1, b4); c4 = Avx512F.FusedMultiplyAdd(y, x2, c4);
                    y = Avx512F.LoadVector512(e + 5 * dyPlane); a5 = Avx512F.FusedMultiplyAdd(y, x0, a5); b5 = Avx512F.FusedMultiplyAdd(y, x1, b5); c5 = Avx512F.FusedMultiplyAdd(y, x2, c5);
                    y = Avx512F.LoadVector512(e + 6 * dyPlane); a6 = Avx512F.FusedMultiplyAdd(y, x0, a6); b6 = Avx512F.FusedMultiplyAdd(y, x1, b6); c6 = Avx512F.FusedMultiplyAdd(y, x2, c6);
                    y = Avx512F.LoadVector512(e + 7 * dyPlane); a7 = Avx512F.FusedMultiplyAdd(y, x0, a7); b7 = Avx512F.FusedMultiplyAdd(y, x1, b7); c7 = Avx512F.FusedMultiplyAdd(y, x2, c7);
                }
            float* g = g16 + t * Lanes;
            int row = taps * Lanes;
            Add8(g, row, a0, a1, a2, a3, a4, a5, a6, a7);
            if (t + 1 < taps) Add8(g + Lanes, row, b0, b1, b2, b3, b4, b5, b6, b7);
            if (t + 2 < taps) Add8(g + 2 * Lanes, row, c0, c1, c2, c3, c4, c5, c6, c7);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add8(float* g, int row, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7)
    {
        Avx512F.Store(g, Avx512F.LoadVector512(g) + v0);
        Avx512F.Store(g + row, Avx512F.LoadVector512(g + row) + v1);
        Avx512F.Store(g + 2 * row, Avx512F.LoadVector512(g + 2 * row) + v2);
        Avx512F.Store(g + 3 * row, Avx512F.LoadVector512(g + 3 * row) + v3);
        Avx512F.Store(g + 4 * row, Avx512F.LoadVector512(g + 4 * row) + v4);
        Avx512F.Store(g + 5 * row, Avx512F.LoadVector512(g + 5 * row) + v5);
        Avx512F.Store(g + 6 * row, Avx512F.LoadVector512(g + 6 * row) + v6);
        Avx512F.Store(g + 7 * row, Avx512F.LoadVector512(g + 7 * row) + v7);
    }
}
