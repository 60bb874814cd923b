using System.Numerics;
using System.Runtime.CompilerServices;

namespace Era.Engine.Layers;

/// <summary>
/// Global average pooling, torch.nn.AdaptiveAvgPool2d(1): [N, C, H, W] → [N, C, 1, 1], y = mean over H·W.
/// Local derivative: ∂y/∂x = 1/(H·W) for every pixel of the channel, so dx = dy / (H·W) spread over the plane.
/// </summary>
public sealed class AdaptiveAvgPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output, _gradInput;
    private int[] _inputShape = [];

    public AdaptiveAvgPool2d(int outputSize = 1)
    {
        if (outputSize != 1) throw new ArgumentException($"AdaptiveAvgPool2d: only output size 1 (global average pooling) is supported, got {outputSize}");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        Shapes.CheckInput("AdaptiveAvgPool2d", input, -1, -1, -1, -1);
        _inputShape = input.Shape;
        int n = input.Shape[0], c = input.Shape[1], hw = input.Shape[2] * input.Shape[3];
        var y = Buffers.Ensure(ref _output, n, c, 1, 1);
        T inv = T.One / T.CreateChecked(hw);
        for (int p = 0; p < n * c; p++) y.Data[p] = Kernels.Elementwise.Sum<T>(input.Data.AsSpan(p * hw, hw)) * inv;
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var y = _output ?? throw new InvalidOperationException("AdaptiveAvgPool2d.Backward: call Forward first");
        Shapes.CheckSame("AdaptiveAvgPool2d.Backward", gradOutput, y);
        var s = _inputShape;
        var dx = Buffers.Ensure(ref _gradInput, s[0], s[1], s[2], s[3]);
        int hw = s[2] * s[3];
        T inv = T.One / T.CreateChecked(hw);
        for (int p = 0; p < s[0] * s[1]; p++) dx.Data.AsSpan(p * hw, hw).Fill(gradOutput.Data[p] * inv);
        return dx;
    }
}
