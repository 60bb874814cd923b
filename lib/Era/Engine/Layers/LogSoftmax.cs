using System.Numerics;
using System.Runtime.CompilerServices;

namespace Era.Engine.Layers;

/// <summary>
/// Log-softmax over dim 1 of [N, C]: y_i = x_i − max − log Σ_j exp(x_j − max) (the max keeps exp from overflowing).
/// Local derivative: ∂y_i/∂x_k = δ_ik − softmax_k, so dx_k = dy_k − exp(y_k) · Σ_i dy_i.
/// </summary>
public sealed class LogSoftmax<T>(int dim = 1) : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output, _gradInput;

    public int Dim { get; } = dim == 1 || dim == -1 ? 1 : throw new ArgumentException($"LogSoftmax: only dim 1 of [N, C] is supported, got dim {dim}");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        Shapes.CheckInput("LogSoftmax", input, -1, -1);
        var y = Buffers.EnsureLike(ref _output, input);
        Forward(input, y);
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Forward(Tensor<T> x, Tensor<T> y)
    {
        int n = x.Shape[0], c = x.Shape[1];
        for (int i = 0; i < n; i++)
        {
            var row = x.Data.AsSpan(i * c, c);
            var outRow = y.Data.AsSpan(i * c, c);
            T max = row[0];
            foreach (var v in row) max = T.Max(max, v);
            T sum = T.Zero;
            foreach (var v in row) sum += T.Exp(v - max);
            T logSum = max + T.Log(sum);
            for (int k = 0; k < c; k++) outRow[k] = row[k] - logSum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var y = _output ?? throw new InvalidOperationException("LogSoftmax.Backward: call Forward first");
        Shapes.CheckSame("LogSoftmax.Backward", gradOutput, y);
        var dx = Buffers.EnsureLike(ref _gradInput, y);
        int n = y.Shape[0], c = y.Shape[1];
        for (int i = 0; i < n; i++)
        {
            T sumDy = T.Zero;
            for (int k = 0; k < c; k++) sumDy += gradOutput.Data[i * c + k];
            for (int k = 0; k < c; k++) dx.Data[i * c + k] = gradOutput.Data[i * c + k] - T.Exp(y.Data[i * c + k]) * sumDy;
        }
        return dx;
    }
}
