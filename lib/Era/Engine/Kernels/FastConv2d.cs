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
/// Two other layouts take over where they measured faster (AVX-512 only): images in lanes for small outputs
/// (<see cref="LanesConv2d"/>, checked first) and Winograd F(2×2, 3×3) for forward and dx (<see cref="Winograd"/>).
/// All scratch buffers are allocated once per input size, thread count, vector width and Winograd setting, then reused: they, the packed weights and
/// the layout (sizes, tap offsets) are this object's state; each call's arrays travel to the threads in a job struct.
/// </summary>
public sealed unsafe class FastConv2d
{
    public static bool IsSupported => ConvKernels.IsSupported;

    private readonly int _cin, _cout, _k, _pad, _oPad, _iPad, _tapsF, _tapsB;
    private int _h = -1, _w = -1, _threads = -1, _bits = -1;
    private bool _winograd;                              // Winograd.Enabled when the layout was made
    private int _hp, _wp, _ho, _wo, _p24, _p8, _q, _hq, _wq, _pd24, _inLen;
    private readonly int[] _offF, _offB;                 // tap offsets in the padded input / padded dy
    private readonly float[] _wPack, _wFlip;             // [o/4][tap][4] and [c/4][tap'][4]
    private float[][] _inPad = [], _outWide = [], _dyWide = [], _dyPad = [], _dxWide = [], _dW8 = [], _db = [];   // [thread][…]
    // Winograd F(2×2, 3×3), where it applies (Kernels/Winograd.cs): for the forward and for the input gradient's full
    // convolution. Tiles, tile offsets per channel, transformed weights U [16][out/4][in][4] and per-thread V and M.
    private bool _wgF, _wgB;
    private Winograd.Tiles _tF, _tB;
    private int[] _offWF = [], _offWB = [];
    private float[] _uF = [], _uB = [];
    private float[][] _vF = [], _mF = [], _vB = [], _mB = [];
    private LanesConv2d? _lanes;                         // small planes: 16 images in the lanes of a vector (Kernels/LanesConv2d.cs)
    private bool _lastLanes;                             // the last call ran _lanes

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
        if (h == _h && w == _w && _threads == Workers.Threads && _bits == ConvKernels.VectorBits && _winograd == Winograd.Enabled) return;
        _h = h; _w = w; _threads = Workers.Threads; _bits = ConvKernels.VectorBits; _winograd = Winograd.Enabled;
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
        int inLen = _inLen = Math.Max(_cin * _hp * _wp, _p24 + _offF[^1]) + Winograd.Slack;
        int dyPadLen = Math.Max(_cout * _hq * _wq, _pd24 + _offB[^1]) + Winograd.Slack;
        _inPad = Workers.PerChunk(inLen); _outWide = Workers.PerChunk(_oPad * _p24 + Winograd.Slack); _dyWide = Workers.PerChunk(_oPad * _p8);
        _dyPad = Workers.PerChunk(dyPadLen); _dxWide = Workers.PerChunk(_iPad * _pd24 + Winograd.Slack); _dW8 = Workers.PerChunk(_oPad * _tapsF * 8); _db = Workers.PerChunk(_cout);
        SetupWinograd();
    }

    /// <summary>Winograd's layout where it applies: this convolution's output tiles (forward), the input's (dx).</summary>
    private void SetupWinograd()
    {
        _wgF = Winograd.Applies(_k, _cin, _ho, _wo);
        _wgB = Winograd.Applies(_k, _cout, _h, _w);
        if (_wgF)
        {
            _tF = Winograd.Tiles.Of(_ho, _wo);
            _offWF = [.. Enumerable.Range(0, _cin).Select(c => c * _tF.Stride)];
            _uF = new float[16 * _oPad * _cin];
            _vF = Workers.PerChunk(16 * _cin * _tF.Stride); _mF = Workers.PerChunk(16 * _oPad * _tF.Padded + Winograd.Slack);
        }
        if (_wgB)
        {
            _tB = Winograd.Tiles.Of(_h, _w);
            _offWB = [.. Enumerable.Range(0, _cout).Select(o => o * _tB.Stride)];
            _uB = new float[16 * _iPad * _cout];
            _vB = Workers.PerChunk(16 * _cout * _tB.Stride); _mB = Workers.PerChunk(16 * _iPad * _tB.Padded + Winograd.Slack);
        }
    }

    /// <summary>Which algorithm the last call's forward and input gradient used: "lanes", "winograd" or "direct" (the weight gradient is direct or lanes).</summary>
    public (string Forward, string InputGrad) Algorithms => _lastLanes ? ("lanes", "lanes") : (_wgF ? "winograd" : "direct", _wgB ? "winograd" : "direct");

    /// <summary>The images-in-lanes convolution when this input's output plane is small (<see cref="LanesConv2d.Applies"/>), else null.</summary>
    private LanesConv2d? LanesFor(int h, int w)
    {
        _lastLanes = LanesConv2d.Applies(h + 2 * _pad - _k + 1, w + 2 * _pad - _k + 1);
        return _lastLanes ? _lanes ??= new LanesConv2d(_cin, _cout, _k, _pad) : null;
    }

    /// <summary>y = conv(x, W) + b for x [n, Cin, h, w] and y [n, Cout, Ho, Wo].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(float[] x, int n, int h, int w, float[] weight, float[]? bias, float[] y)
    {
        if (LanesFor(h, w) is { } lanes)
        {
            lanes.Forward(x, n, h, w, weight, bias, y);
            return;
        }
        Setup(h, w);
        if (_wgF) Winograd.TransformWeights(weight, _cout, _cin, flipped: false, _uF);
        // Pack W [o][tap] as [o/4][tap][4] (zeros for the padding channels o ≥ Cout).
        else for (int o = 0; o < _oPad; o++)
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
                if (_wgF) WinogradForward(WideInput(x, images.Length, img, pIn, forward: false), chunk, pOut);
                else ConvKernels.Forward(WideInput(x, images.Length, img, pIn, forward: true), pOff, _tapsF, pW, _oPad / 4, pOut, _p24);
                for (int o = 0; o < _cout; o++)
                {
                    float b = bias is null ? 0f : bias[o];
                    float* dst = y + (img * _cout + o) * hw, src = pOut + o * _p24;
                    for (int i = 0; i < _ho; i++, dst += _wo, src += _wp) ConvKernels.CopyRow(src, dst, _wo, b); // drop garbage columns, + bias
                }
            }
        }
    }

    /// <summary>One image's forward as Winograd F(2×2, 3×3), into the wide output rows the caller copies.</summary>
    private void WinogradForward(float* wideX, int chunk, float* wideOut)
    {
        fixed (float* v = _vF[chunk], m = _mF[chunk], u = _uF)
        fixed (int* off = _offWF)
            Winograd.Convolve(wideX, _cin, _hp * _wp, _wp, _tF, v, off, u, _cout, _oPad, m, wideOut, _p24, _wp);
    }

    /// <summary>
    /// Image <paramref name="img"/> of x in the wide layout. Without padding an image already is in it (Wp = W), so the
    /// kernels read it in place when their furthest read (a few floats past the image) stays inside x: those floats
    /// fall in garbage columns of the output (dropped) and meet zeros of dy in dW. Otherwise (padding, or the batch's
    /// last image) it is copied into the zero-padded scratch plane. The forward kernel also gets a copy when the image
    /// is larger than <see cref="InPlaceForwardBytes"/>: it reads every input plane at once, and from a large image
    /// not yet in cache that was slower than one sequential copy (16×24×24: 1.40 ms in place against 1.16 ms copied,
    /// the best of five `era bench --profile` runs; 8×26×26 and smaller: in place faster, 0.66 against 0.75 ms).
    /// Winograd's input transform reads one plane row by row, so it always reads in place (forward: false).
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
        if (LanesFor(h, w) is { } lanes)
        {
            lanes.Backward(x, n, h, w, weight, dy, dW, db, dx);
            return;
        }
        Setup(h, w);
        int k = _k, kk = k * k;
        if (_wgB) Winograd.TransformWeights(weight, _cout, _cin, flipped: true, _uB);
        // W flipped and transposed: Wf[c][o, u, v] = W[o][c, k−1−u, k−1−v], packed [c/4][tap'][4].
        else for (int c = 0; c < _iPad; c++)
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
                if (_wgB) WinogradInputGrad(pDyP, chunk, pDx);
                else ConvKernels.Forward(pDyP, pOffB, _tapsB, pWf, _iPad / 4, pDx, _pd24);        // dx = full conv of dy
                float* d = dx + img * _cin * _h * _w;
                for (int c = 0; c < _cin; c++)
                {
                    float* s = pDx + c * _pd24;
                    for (int i = 0; i < _h; i++, d += _w, s += _wq) ConvKernels.CopyRow(s, d, _w);
                }
            }
        }
    }

    /// <summary>dx of one image as the Winograd full convolution of dy (padded by k − 1 − p) with the flipped weights, into the wide dx rows.</summary>
    private void WinogradInputGrad(float* dyPadded, int chunk, float* wideDx)
    {
        fixed (float* v = _vB[chunk], m = _mB[chunk], u = _uB)
        fixed (int* off = _offWB)
            Winograd.Convolve(dyPadded, _cout, _hq * _wq, _wq, _tB, v, off, u, _cin, _iPad, m, wideDx, _pd24, _wq);
    }
}
