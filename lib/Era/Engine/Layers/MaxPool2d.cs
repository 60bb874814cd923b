using System.Numerics;
using System.Runtime.CompilerServices;
using Era.Engine.Kernels;

namespace Era.Engine.Layers;

/// <summary>
/// Max pooling, torch.nn.MaxPool2d(kernel, stride = kernel), no padding: output H = ⌊(H − k)/s⌋ + 1.
/// Local derivative: 1 for the arg-max of each window, 0 elsewhere, so backward routes dy to where the max was
/// (the first maximum in row-major order on ties, as PyTorch).
/// </summary>
public sealed class MaxPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output, _gradInput;
    private int[]? _argmax;     // flat input index of the max of each output element (kept for backward)
    private int[] _inputShape = [];

    public MaxPool2d(int kernelSize, int? stride = null)
    {
        if (kernelSize < 1) throw new ArgumentException($"MaxPool2d: kernel size must be positive, got {kernelSize}");
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        if (Stride < 1) throw new ArgumentException($"MaxPool2d: stride must be positive, got {Stride}");
    }

    public int KernelSize { get; }
    public int Stride { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        Shapes.CheckInput("MaxPool2d", input, -1, -1, -1, -1);
        int n = input.Shape[0], c = input.Shape[1], h = input.Shape[2], w = input.Shape[3], k = KernelSize, s = Stride;
        if (h < k || w < k)
            throw new ArgumentException($"MaxPool2d: input {Tensor<T>.ShapeString(input.Shape)} is smaller than the kernel {k}×{k}");
        int ho = (h - k) / s + 1, wo = (w - k) / s + 1;
        _inputShape = input.Shape;
        var y = Buffers.Ensure(ref _output, n, c, ho, wo);
        var arg = Buffers.Ensure(ref _argmax, y.Numel);
        Workers.Run(new MaxPoolForward(input.Data, y.Data, arg, n * c, h, w, ho, wo, k, s), input.Numel);
        return y;
    }

    /// <summary>y = max over each k×k window (stride s) and its arg-max, for the planes of this chunk.</summary>
    private readonly struct MaxPoolForward(T[] x, T[] y, int[] arg, int planes, int h, int w, int ho, int wo, int k, int s) : IChunkJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int chunks)
        {
            var (p0, p1) = Workers.Range(planes, chunk, chunks);
            if (typeof(T) == typeof(float) && k == 2 && s == 2)
            {
                Pooling.MaxPool2x2((float[])(object)x, (float[])(object)y, arg, h, w, ho, wo, p0, p1);
                return;
            }
            for (int plane = p0; plane < p1; plane++)
            {
                int inBase = plane * h * w, o = plane * ho * wo;
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++, o++)
                    {
                        int best = inBase + oy * s * w + ox * s;
                        T max = x[best];
                        for (int ky = 0; ky < k; ky++)
                        {
                            int row = inBase + (oy * s + ky) * w + ox * s;
                            for (int kx = 0; kx < k; kx++)
                            {
                                T v = x[row + kx];
                                if (v > max || T.IsNaN(v)) { max = v; best = row + kx; }   // first maximum wins; NaN propagates
                            }
                        }
                        y[o] = max;
                        arg[o] = best;
                    }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var y = _output ?? throw new InvalidOperationException("MaxPool2d.Backward: call Forward first");
        Shapes.CheckSame("MaxPool2d.Backward", gradOutput, y);
        var s = _inputShape;
        var dx = Buffers.Ensure(ref _gradInput, s[0], s[1], s[2], s[3]);
        Workers.Run(new MaxPoolBackward(gradOutput.Data, _argmax!, dx.Data, s[0] * s[1], s[2] * s[3], y.Shape[2] * y.Shape[3]), dx.Numel);
        return dx;
    }

    /// <summary>dx = 0, then dx[argmax] += dy, for the planes of this chunk (each window lies inside one plane).</summary>
    private readonly struct MaxPoolBackward(T[] dy, int[] arg, T[] dx, int planes, int inPlane, int outPlane) : IChunkJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int chunks)
        {
            var (p0, p1) = Workers.Range(planes, chunk, chunks);
            Array.Clear(dx, p0 * inPlane, (p1 - p0) * inPlane);
            for (int o = p0 * outPlane; o < p1 * outPlane; o++) dx[arg[o]] += dy[o];   // dx[argmax] += dy
        }
    }
}
