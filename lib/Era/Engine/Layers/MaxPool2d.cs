using System.Numerics;

namespace Era.Engine.Layers;

/// <summary>
/// Max pooling, torch.nn.MaxPool2d(kernel, stride = kernel), no padding: output H = ⌊(H − k)/s⌋ + 1.
/// Local derivative: 1 for the arg-max of each window, 0 elsewhere, so backward routes dy to where the max was
/// (the first maximum in row-major order on ties, as PyTorch).
/// </summary>
public sealed class MaxPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output, _gradInput;
    private int[]? _argmax;     // flat input index of the max of each output element
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
        var x = input.Data;
        for (int plane = 0; plane < n * c; plane++)
        {
            int inBase = plane * h * w, outBase = plane * ho * wo;
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    int best = inBase + oy * s * w + ox * s;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                        {
                            int i = inBase + (oy * s + ky) * w + ox * s + kx;
                            if (x[i] > x[best] || T.IsNaN(x[i])) best = i;
                        }
                    y.Data[outBase + oy * wo + ox] = x[best];
                    arg[outBase + oy * wo + ox] = best;
                }
        }
        return y;
    }

    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var y = _output ?? throw new InvalidOperationException("MaxPool2d.Backward: call Forward first");
        Shapes.CheckSame("MaxPool2d.Backward", gradOutput, y);
        var s = _inputShape;
        var dx = Buffers.Ensure(ref _gradInput, s[0], s[1], s[2], s[3]);
        dx.Zero();
        var arg = _argmax!;
        for (int i = 0; i < arg.Length; i++) dx.Data[arg[i]] += gradOutput.Data[i];   // dx[argmax] += dy
        return dx;
    }
}
