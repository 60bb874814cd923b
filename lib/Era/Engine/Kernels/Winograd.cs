using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Era.Engine.Kernels;

/// <summary>
/// Winograd's minimal filtering F(2×2, 3×3) (Lavin &amp; Gray, "Fast Algorithms for Convolutional Neural Networks", 2015)
/// for the stride-1 3×3 convolutions of <see cref="FastConv2d"/>: each 2×2 tile of output is computed from the 4×4
/// tile of input under it with 16 multiplications per (output, input) channel pair instead of 36:
/// <code>
///   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d Bᵀᵀ) ] A            d: 4×4 input tile, g: 3×3 kernel, Y: 2×2 output tile
///        ⎡1  0 −1  0⎤        ⎡1   0   0⎤
///   Bᵀ = ⎢0  1  1  0⎥    G = ⎢½   ½   ½⎥    Aᵀ = ⎡1  1  1  0⎤
///        ⎢0 −1  1  0⎥        ⎢½  −½   ½⎥         ⎣0  1 −1 −1⎦
///        ⎣0  1  0 −1⎦        ⎣0   0   1⎦
/// </code>
/// Summed over input channels, the 16 products of a tile become 16 matrix products, one per position ξ = 4i + j of
/// the 4×4 transformed tile: M[ξ][o][t] = Σ_c U[ξ][o][c] · V[ξ][c][t] (U = G g Gᵀ, V = Bᵀ d B, t = the tile). That is
/// <see cref="ConvKernels.Forward"/> with the input channels as its taps (offset c · tile stride), so the same
/// register-blocked micro-kernel does the multiplications. FastConv2d runs it for the forward and for the input
/// gradient (the full convolution of ∂Y with the flipped weights, also 3×3 and stride 1).
///
/// Measured 2026-12-02 on an AMD EPYC (Zen 4, AVX-512 at half rate per instruction; FastConv2d alone, batch 128,
/// 2 threads, best of 7×5): 16 → 16 on 24×24 forward 1.54–1.59 ms direct against 1.40–1.51 ms Winograd, its input
/// gradient 1.80 against 1.53; 8 → 16 on 26×26 forward 0.91–0.97 against 0.86–1.02 (no gain with 8 input channels).
/// The transforms cost as much as they save at these channel counts: V holds 16 numbers per tile per channel, 4× the
/// input, and writing it (1 ms a batch for 16 × 24 × 24, one thread) is as slow as the 16 matrix products. The weight
/// gradient the same way (∂L/∂g = Gᵀ [Σ_t (A ∂Y Aᵀ) ⊙ (Bᵀ d B)] G, a reduction over tiles) was slower than the direct
/// kernel on both layers (1.65 → 1.80 and 1.01 → 1.11 ms) and is not used.
///
/// Tiles sit in vector lanes: tile t = ty·tw + tx, the tx of one tile row consecutive, so a transform works on a whole
/// row of tiles at once (16 lanes: a tile row of up to 16 tiles, output rows of up to 32 pixels). A row's even and odd
/// columns are split with one two-register permute each. Stores of a tile row are 16 lanes wide and spill past its last
/// tile into the next row, which is written afterwards; each buffer has room for the last row's spill, and V's lanes
/// past the last tile are cleared (the products of those lanes are computed and dropped).
/// AVX-512 only (the permutes); elsewhere, and for odd output sizes, FastConv2d runs the direct kernels.
/// </summary>
public static unsafe class Winograd
{
    /// <summary>
    /// Whether FastConv2d may use Winograd where it applies (default on; <c>ERA_WINOGRAD=0</c> turns it off, to compare
    /// with the direct kernels). Tests set it to run both.
    /// </summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("ERA_WINOGRAD") != "0";

    /// <summary>The fewest input channels Winograd runs with: 16 won by 5–15% in the measurements above, 8 did not.</summary>
    public const int MinInChannels = 16;

    /// <summary>The widest output (pixels) a tile row covers: 16 tiles of 2.</summary>
    public const int MaxWidth = 32;

    /// <summary>Floats each buffer holds past its last row for the spill of 16-lane stores (and the reads of 34-float input rows).</summary>
    public const int Slack = 48;

    /// <summary>
    /// Whether a stride-1 convolution with this kernel size, number of input channels and output size may run as Winograd
    /// (FastConv2d gives small outputs to <see cref="LanesConv2d"/> first):
    /// 3×3, 512-bit vectors, an even output no wider than <see cref="MaxWidth"/>, and at least
    /// <see cref="MinInChannels"/> input channels (with fewer the 16 matrix products are too short to pay for the transforms).
    /// </summary>
    public static bool Applies(int kernelSize, int inChannels, int outHeight, int outWidth) =>
        Enabled && kernelSize == 3 && ConvKernels.VectorBits == 512 && inChannels >= MinInChannels
        && outHeight % 2 == 0 && outWidth % 2 == 0 && outWidth <= MaxWidth && outHeight > 0;

    /// <summary>The tiles of an output of <paramref name="height"/> × <paramref name="width"/> (both even), and the padded tile counts the kernels need.</summary>
    public readonly record struct Tiles(int Rows, int Columns)
    {
        public static Tiles Of(int height, int width) => new(height / 2, width / 2);

        public int Count => Rows * Columns;

        /// <summary>Tiles per matrix row for the micro-kernels: a multiple of their pixel block (48 at 512 bits).</summary>
        public int Padded => (Count + 47) / 48 * 48;

        /// <summary>The distance between the rows of V (one per position and channel): room for a last tile row's 16-lane store.</summary>
        public int Stride => Padded + 16;
    }

    /// <summary>
    /// U[ξ][a/4][b][4] = (G g Gᵀ)[ξ] for the kernel g of output channel a and input channel b (zeros for the padding
    /// channels a ≥ outs), in double, then rounded. Forward: g(a, b) = W[a, b] (outs = Cout, ins = Cin). Flipped, for the
    /// input gradient's full convolution: g(a, b)[u, v] = W[b, a, 2 − u, 2 − v] (outs = Cin, ins = Cout).
    /// </summary>
    public static void TransformWeights(float[] weight, int cout, int cin, bool flipped, float[] u)
    {
        int outs = flipped ? cin : cout, ins = flipped ? cout : cin, blocks = (outs + 3) / 4;
        Span<double> g = stackalloc double[9], gg = stackalloc double[12];
        for (int a = 0; a < blocks * 4; a++)
            for (int b = 0; b < ins; b++)
            {
                for (int r = 0; r < 3; r++)
                    for (int s = 0; s < 3; s++)
                        g[r * 3 + s] = a >= outs ? 0 : flipped ? weight[((b * cin + a) * 3 + 2 - r) * 3 + 2 - s] : weight[((a * cin + b) * 3 + r) * 3 + s];
                for (int s = 0; s < 3; s++)   // G g: rows g0, (g0 + g1 + g2)/2, (g0 − g1 + g2)/2, g2
                {
                    gg[s] = g[s];
                    gg[3 + s] = (g[s] + g[3 + s] + g[6 + s]) / 2;
                    gg[6 + s] = (g[s] - g[3 + s] + g[6 + s]) / 2;
                    gg[9 + s] = g[6 + s];
                }
                for (int i = 0; i < 4; i++)   // (G g) Gᵀ: the same on each row's three values
                {
                    double p = gg[i * 3], q = gg[i * 3 + 1], r = gg[i * 3 + 2];
                    ReadOnlySpan<double> row = [p, (p + q + r) / 2, (p - q + r) / 2, r];
                    for (int j = 0; j < 4; j++)
                        u[(((i * 4 + j) * blocks + a / 4) * ins + b) * 4 + (a & 3)] = (float)row[j];
                }
            }
    }

    /// <summary>
    /// One image's convolution: V = Bᵀ d B of the input's tiles (planes and rows as in <see cref="TransformInput"/>),
    /// M[ξ] = U[ξ] · V[ξ] (16 matrix products by the direct kernel, input channels as its taps at offsets
    /// <paramref name="off"/>[c] = c · tile stride), Y = Aᵀ M A written as <see cref="TransformOutput"/> writes it.
    /// U is <see cref="TransformWeights"/>'s, for <paramref name="outChannels"/> padded to <paramref name="outPad"/>.
    /// </summary>
    public static void Convolve(float* input, int inChannels, int planeStride, int rowStride, Tiles tiles, float* v, int* off, float* u,
        int outChannels, int outPad, float* m, float* output, int outPlaneStride, int outRowStride)
    {
        int tPad = tiles.Padded, tStride = tiles.Stride;
        TransformInput(input, inChannels, planeStride, rowStride, tiles, v, tStride);
        for (int xi = 0; xi < 16; xi++)
            ConvKernels.Forward(v + xi * inChannels * tStride, off, inChannels, u + xi * outPad * inChannels, outPad / 4, m + xi * outPad * tPad, tPad);
        TransformOutput(m, outChannels, tPad, outPad * tPad, tiles, output, outPlaneStride, outRowStride);
    }

    private static Vector512<int> Evens => Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static Vector512<int> Odds => Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static Vector512<int> InterleaveLow => Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static Vector512<int> InterleaveHigh => Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    private static Vector512<float> Load(float* p) => Avx512F.LoadVector512(p);

    /// <summary>
    /// V[ξ][c][t] = (Bᵀ d B)[ξ] of each 4×4 tile d (rows 2ty … 2ty + 3, columns 2tx … 2tx + 3) of each channel plane
    /// (planes <paramref name="planeStride"/> apart, rows <paramref name="rowStride"/> apart; 34 floats of a row are
    /// read). V's rows (one per ξ and c) are <paramref name="tStride"/> apart; lanes past the last tile are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransformInput(float* input, int channels, int planeStride, int rowStride, Tiles tiles, float* v, int tStride)
    {
        Vector512<int> ev = Evens, od = Odds;
        int xiStride = channels * tStride, tw = tiles.Columns;
        for (int c = 0; c < channels; c++)
        {
            float* plane = input + c * planeStride, vc = v + c * tStride;
            for (int ty = 0; ty < tiles.Rows; ty++)
            {
                float* r0 = plane + 2 * ty * rowStride, r1 = r0 + rowStride, r2 = r1 + rowStride, r3 = r2 + rowStride;
                float* dst = vc + ty * tw;
                // Each row of the tile at columns [0, 16), [16, 32) and the same two shifted by 2 (the next tile's first two columns).
                Vector512<float> a0 = Load(r0), b0 = Load(r0 + 16), c0 = Load(r0 + 2), d0 = Load(r0 + 18);
                Vector512<float> a1 = Load(r1), b1 = Load(r1 + 16), c1 = Load(r1 + 2), d1 = Load(r1 + 18);
                Vector512<float> a2 = Load(r2), b2 = Load(r2 + 16), c2 = Load(r2 + 2), d2 = Load(r2 + 18);
                Vector512<float> a3 = Load(r3), b3 = Load(r3 + 16), c3 = Load(r3 + 2), d3 = Load(r3 + 18);
                // Bᵀ down the columns: t0 = d0 − d2, t1 = d1 + d2, t2 = d2 − d1, t3 = d1 − d3 (rows of the tile), then along each row.
                AlongRow(a0 - a2, b0 - b2, c0 - c2, d0 - d2, ev, od, dst, xiStride);
                AlongRow(a1 + a2, b1 + b2, c1 + c2, d1 + d2, ev, od, dst + 4 * xiStride, xiStride);
                AlongRow(a2 - a1, b2 - b1, c2 - c1, d2 - d1, ev, od, dst + 8 * xiStride, xiStride);
                AlongRow(a1 - a3, b1 - b3, c1 - c3, d1 - d3, ev, od, dst + 12 * xiStride, xiStride);
            }
            for (int xi = 0; xi < 16; xi++) new Span<float>(vc + xi * xiStride + tiles.Count, tStride - tiles.Count).Clear();
        }
    }

    /// <summary>
    /// Bᵀ along one transformed row t of a tile row (t at columns [0, 16), [16, 32) in lo, hi; shifted by 2 in lo2, hi2):
    /// with e = t[2tx], o = t[2tx + 1], e′ = t[2tx + 2], o′ = t[2tx + 3] the four values are e − e′, o + e′, e′ − o, o − o′.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AlongRow(Vector512<float> lo, Vector512<float> hi, Vector512<float> lo2, Vector512<float> hi2, Vector512<int> ev, Vector512<int> od, float* row, int xiStride)
    {
        var e = Avx512F.PermuteVar16x32x2(lo, ev, hi);
        var o = Avx512F.PermuteVar16x32x2(lo, od, hi);
        var e2 = Avx512F.PermuteVar16x32x2(lo2, ev, hi2);
        var o2 = Avx512F.PermuteVar16x32x2(lo2, od, hi2);
        Avx512F.Store(row, e - e2);
        Avx512F.Store(row + xiStride, o + e2);
        Avx512F.Store(row + 2 * xiStride, e2 - o);
        Avx512F.Store(row + 3 * xiStride, o - o2);
    }

    /// <summary>
    /// The output tiles Y = Aᵀ M A of channels [0, channels) from M [16][…][t] (ξ rows <paramref name="xiStride"/> apart,
    /// channel rows <paramref name="tPad"/> apart), written as rows of 32 floats (the first 2·tw hold the tile row's
    /// pixels) into planes <paramref name="planeStride"/> apart with rows <paramref name="rowStride"/> apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransformOutput(float* m, int channels, int tPad, int xiStride, Tiles tiles, float* output, int planeStride, int rowStride)
    {
        Vector512<int> lo = InterleaveLow, hi = InterleaveHigh;
        int tw = tiles.Columns;
        for (int o = 0; o < channels; o++)
            for (int ty = 0; ty < tiles.Rows; ty++)
            {
                float* src = m + o * tPad + ty * tw;
                // Aᵀ down the columns: r0 = m0 + m1 + m2, r1 = m1 − m2 − m3 (rows of the 4×4 tile), for each column j …
                Vector512<float> r00 = default, r01 = default, r02 = default, r03 = default, r10 = default, r11 = default, r12 = default, r13 = default;
                for (int j = 0; j < 4; j++)
                {
                    var m0 = Load(src + j * xiStride);
                    var m1 = Load(src + (4 + j) * xiStride);
                    var m2 = Load(src + (8 + j) * xiStride);
                    var m3 = Load(src + (12 + j) * xiStride);
                    var a = m0 + m1 + m2;
                    var b = m1 - m2 - m3;
                    switch (j)
                    {
                        case 0: r00 = a; r10 = b; break;
                        case 1: r01 = a; r11 = b; break;
                        case 2: r02 = a; r12 = b; break;
                        default: r03 = a; r13 = b; break;
                    }
                }
                // … then along the rows: y0 = r0 + r1 + r2, y1 = r1 − r2 − r3, interleaved into pixels 2tx, 2tx + 1.
                float* row = output + o * planeStride + 2 * ty * rowStride;
                var y00 = r00 + r01 + r02;
                var y01 = r01 - r02 - r03;
                Avx512F.Store(row, Avx512F.PermuteVar16x32x2(y00, lo, y01));
                Avx512F.Store(row + 16, Avx512F.PermuteVar16x32x2(y00, hi, y01));
                var y10 = r10 + r11 + r12;
                var y11 = r11 - r12 - r13;
                Avx512F.Store(row + rowStride, Avx512F.PermuteVar16x32x2(y10, lo, y11));
                Avx512F.Store(row + rowStride + 16, Avx512F.PermuteVar16x32x2(y10, hi, y11));
            }
    }
}
