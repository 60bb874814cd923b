using System.Runtime.CompilerServices;

namespace Era.Engine.Kernels;

/// <summary>
/// Fast float path of Conv2d for stride 1 (any kernel size, padding &lt; kernel), used by <see cref="Layers.Conv2d{T}"/>.
/// Work is split over the images of the batch, one fixed chunk per thread. Per image:
///   forward:  copy x into a zero-padded "wide" plane (width Wp = W + 2p), run <see cref="ConvKernels.Forward"/>,
///             copy the Wo valid columns of each output row to y (+ bias);
///   backward: dW  — <see cref="ConvKernels.WeightGrad"/> on the same padded x and dy laid out wide (zeros in the
///                   garbage columns), accumulated into per-thread partial sums that are reduced in thread order;
///             dx  — a "full" convolution: dy padded by k−1−p on each side, correlated with the weights flipped
///                   (u → k−1−u, v → k−1−v) and transposed (in ↔ out channels), which is the same forward kernel.
/// All scratch buffers are allocated once per input size and thread count, then reused: they, the packed weights and
/// the layout (sizes, tap offsets) are this object's state; each call's arrays travel to the threads in a job struct.
/// </summary>
public sealed unsafe class FastConv2d
{
    public static bool IsSupported => ConvKernels.IsSupported;

    private readonly int _cin, _cout, _k, _pad, _oPad, _iPad, _tapsF, _tapsB;
    private int _h = -1, _w = -1, _threads = -1, _bits = -1;
    private int _hp, _wp, _ho, _wo, _p24, _p8, _q, _hq, _wq, _pd24, _inLen;
    private readonly int[] _offF, _offB;                 // tap offsets in the padded input / padded dy
    private readonly float[] _wPack, _wFlip;             // [o/4][tap][4] and [c/4][tap'][4]
    private float[][] _inPad = [], _outWide = [], _dyWide = [], _dyPad = [], _dxWide = [], _dW8 = [], _db = [];   // [thread][…]

    public FastConv2d(int inChannels, int outChannels, int kernelSize, int padding)
    {
        _cin = inChannels;
        _cout = outChannels;
        _k = kernelSize;
        _pad = padding;
        _oPad = (outChannels + 3) / 4 * 4;
        _iPad = (inChannels + 3) / 4 * 4;
        _tapsF = inChannels * kernelSize * kernelSize;
        _tapsB = outChannels * kernelSize * kernelSize;
        _offF = new int[_tapsF];
        _offB = new int[_tapsB];
        _wPack = new float[_oPad * _tapsF];
        _wFlip = new float[_iPad * _tapsB];
    }

    /// <summary>The largest image (Cin·H·W floats, in bytes) the forward kernel reads in place: about an L1 data cache.</summary>
    private const int InPlaceForwardBytes = 32 * 1024;

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    private void Setup(int h, int w)
    {
        if (h == _h && w == _w && _threads == Workers.Threads && _bits == ConvKernels.VectorBits) return;
        _h = h; _w = w; _threads = Workers.Threads; _bits = ConvKernels.VectorBits;
        int k = _k;
        _hp = h + 2 * _pad; _wp = w + 2 * _pad;
        _ho = _hp - k + 1; _wo = _wp - k + 1;
        _p24 = RoundUp(_ho * _wp, ConvKernels.PixelBlock);   // 24 (AVX2) or 48 (AVX-512) pixels a block
        _p8 = RoundUp(_ho * _wp, ConvKernels.GradBlock);     // 8 or 16
        _q = k - 1 - _pad;
        _hq = _ho + 2 * _q; _wq = _wo + 2 * _q;
        _pd24 = RoundUp(h * _wq, ConvKernels.PixelBlock);
        for (int c = 0; c < _cin; c++)
            for (int u = 0; u < k; u++)
                for (int v = 0; v < k; v++) _offF[(c * k + u) * k + v] = c * _hp * _wp + u * _wp + v;
        for (int o = 0; o < _cout; o++)
            for (int u = 0; u < k; u++)
                for (int v = 0; v < k; v++) _offB[(o * k + u) * k + v] = o * _hq * _wq + u * _wq + v;
        // Sizes cover the furthest read of the kernels (last block + largest tap offset); the slack stays zero.
        int inLen = _inLen = Math.Max(_cin * _hp * _wp, _p24 + _offF[^1]) + 16;
        int dyPadLen = Math.Max(_cout * _hq * _wq, _pd24 + _offB[^1]) + 16;
        _inPad = Alloc(inLen); _outWide = Alloc(_oPad * _p24); _dyWide = Alloc(_oPad * _p8);
        _dyPad = Alloc(dyPadLen); _dxWide = Alloc(_iPad * _pd24); _dW8 = Alloc(_oPad * _tapsF * 8); _db = Alloc(_cout);
    }

    private float[][] Alloc(int length)
    {
        var a = new float[_threads][];
        for (int t = 0; t < _threads; t++) a[t] = new float[length];
        return a;
    }

    /// <summary>y = conv(x, W) + b for x [n, Cin, h, w] and y [n, Cout, Ho, Wo].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(float[] x, int n, int h, int w, float[] weight, float[]? bias, float[] y)
    {
        Setup(h, w);
        // Pack W [o][tap] as [o/4][tap][4] (zeros for the padding channels o ≥ Cout).
        for (int o = 0; o < _oPad; o++)
            for (int t = 0; t < _tapsF; t++)
                _wPack[((o >> 2) * _tapsF + t) * 4 + (o & 3)] = o < _cout ? weight[o * _tapsF + t] : 0f;
        Workers.Run(new ConvForward(this, x, n, bias, y));
    }

    /// <summary>Forward of the images of this chunk, with the chunk's own scratch buffers.</summary>
    private readonly struct ConvForward(FastConv2d conv, float[] x, int n, float[]? bias, float[] y) : IChunkJob
    {
        public void Execute(int chunk, int chunks)
        {
            var (start, end) = Workers.Range(n, chunk, chunks);
            conv.ForwardImages(chunk, start, end, x, bias, y);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardImages(int chunk, int start, int end, float[] images, float[]? bias, float[] output)
    {
        int hw = _ho * _wo;
        fixed (float* pIn = _inPad[chunk], pOut = _outWide[chunk], pW = _wPack, x = images, y = output)
        fixed (int* pOff = _offF)
        {
            for (int img = start; img < end; img++)
            {
                ConvKernels.Forward(WideInput(x, images.Length, img, pIn, forward: true), pOff, _tapsF, pW, _oPad / 4, pOut, _p24);
                for (int o = 0; o < _cout; o++)
                {
                    float b = bias is null ? 0f : bias[o];
                    float* dst = y + (img * _cout + o) * hw, src = pOut + o * _p24;
                    for (int i = 0; i < _ho; i++, dst += _wo, src += _wp) ConvKernels.CopyRow(src, dst, _wo, b); // drop garbage columns, + bias
                }
            }
        }
    }

    /// <summary>
    /// Image <paramref name="img"/> of x in the wide layout. Without padding an image already is in it (Wp = W), so the
    /// kernels read it in place when their furthest read (a few floats past the image) stays inside x: those floats
    /// fall in garbage columns of the output (dropped) and meet zeros of dy in dW. Otherwise (padding, or the batch's
    /// last image) it is copied into the zero-padded scratch plane. The forward kernel also gets a copy when the image
    /// is larger than <see cref="InPlaceForwardBytes"/>: it reads every input plane at once, and from a large image
    /// not yet in cache that was slower than one sequential copy (16×24×24: 1.40 ms in place against 1.16 ms copied,
    /// the best of five `era bench --profile` runs; 8×26×26 and smaller: in place faster, 0.66 against 0.75 ms).
    /// </summary>
    private float* WideInput(float* x, int xLength, int img, float* inPad, bool forward)
    {
        long start = (long)img * _cin * _h * _w;
        bool fits = !forward || _cin * _h * _w * sizeof(float) <= InPlaceForwardBytes;
        if (_pad == 0 && fits && start + _inLen <= xLength) return x + start;
        PackInput(x, img, inPad);
        return inPad;
    }

    /// <summary>Copies image <paramref name="img"/> of x into the interior of the zero-padded plane (borders stay zero).</summary>
    private void PackInput(float* x, int img, float* inPad)
    {
        int h = _h, w = _w;
        float* src = x + img * _cin * h * w;
        for (int c = 0; c < _cin; c++)
        {
            float* dst = inPad + c * _hp * _wp + _pad * _wp + _pad;
            for (int i = 0; i < h; i++, src += w, dst += _wp) ConvKernels.CopyRow(src, dst, w);
        }
    }

    /// <summary>Accumulates dW (and db) and writes dx (unless null), for x [n, Cin, h, w] and dy [n, Cout, Ho, Wo].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(float[] x, int n, int h, int w, float[] weight, float[] dy, float[] dW, float[]? db, float[]? dx)
    {
        Setup(h, w);
        int k = _k, kk = k * k;
        // W flipped and transposed: Wf[c][o, u, v] = W[o][c, k−1−u, k−1−v], packed [c/4][tap'][4].
        for (int c = 0; c < _iPad; c++)
            for (int o = 0; o < _cout; o++)
                for (int u = 0; u < k; u++)
                    for (int v = 0; v < k; v++)
                        _wFlip[((c >> 2) * _tapsB + (o * k + u) * k + v) * 4 + (c & 3)] =
                            c < _cin ? weight[(o * _cin + c) * kk + (k - 1 - u) * k + (k - 1 - v)] : 0f;
        Workers.Run(new ConvBackward(this, x, n, dy, dx));
        // Reduce the per-thread partial sums in a fixed order (thread, then lane): deterministic.
        for (int o = 0; o < _cout; o++)
            for (int t = 0; t < _tapsF; t++)
            {
                float s = 0f;
                for (int th = 0; th < _threads; th++)
                    for (int lane = 0; lane < 8; lane++) s += _dW8[th][(o * _tapsF + t) * 8 + lane];
                dW[o * _tapsF + t] += s;
            }
        if (db is not null)
            for (int o = 0; o < _cout; o++)
                for (int th = 0; th < _threads; th++) db[o] += _db[th][o];
    }

    /// <summary>
    /// Backward of the images of this chunk: dW and db into the chunk's partial sums (reduced by Backward), dx
    /// (unless null) per image.
    /// </summary>
    private readonly struct ConvBackward(FastConv2d conv, float[] x, int n, float[] dy, float[]? dx) : IChunkJob
    {
        public void Execute(int chunk, int chunks)
        {
            var (start, end) = Workers.Range(n, chunk, chunks);
            conv.BackwardImages(chunk, start, end, x, dy, dx);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardImages(int chunk, int start, int end, float[] images, float[] gradOutput, float[]? gradInput)
    {
        float[] db = _db[chunk];
        Array.Clear(_dW8[chunk]);
        Array.Clear(db);
        int hw = _ho * _wo;
        fixed (float* pIn = _inPad[chunk], pDyW = _dyWide[chunk], pDyP = _dyPad[chunk], pDx = _dxWide[chunk], pG = _dW8[chunk], pWf = _wFlip)
        fixed (float* x = images, dy = gradOutput, dx = gradInput)
        fixed (int* pOffF = _offF, pOffB = _offB)
        {
            for (int img = start; img < end; img++)
            {
                float* wideX = WideInput(x, images.Length, img, pIn, forward: false);
                for (int o = 0; o < _cout; o++)
                {
                    float* src = dy + (img * _cout + o) * hw;
                    float* wide = pDyW + o * _p8, padded = pDyP + o * _hq * _wq + _q * _wq + _q;
                    float sum = 0f;
                    // dy twice: in the wide layout of x (for dW) and padded by k−1−p (for dx); db += Σ dy.
                    for (int i = 0; i < _ho; i++, src += _wo, wide += _wp, padded += _wq)
                        sum += ConvKernels.CopyRowTwiceAndSum(src, wide, padded, _wo);
                    db[o] += sum;
                }
                ConvKernels.WeightGrad(wideX, pOffF, _tapsF, pDyW, _oPad / 4, _p8, pG);       // dW += dy · x
                if (dx == null) continue;
                ConvKernels.Forward(pDyP, pOffB, _tapsB, pWf, _iPad / 4, pDx, _pd24);        // dx = full conv of dy
                float* d = dx + img * _cin * _h * _w;
                for (int c = 0; c < _cin; c++)
                {
                    float* s = pDx + c * _pd24;
                    for (int i = 0; i < _h; i++, d += _w, s += _wq) ConvKernels.CopyRow(s, d, _w);
                }
            }
        }
    }
}
