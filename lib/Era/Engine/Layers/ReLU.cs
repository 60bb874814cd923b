using System.Numerics;
using System.Runtime.CompilerServices;
using Era.Engine.Kernels;

namespace Era.Engine.Layers;

/// <summary>y = max(x, 0). Local derivative: ∂y/∂x = 1 where x &gt; 0, else 0 (so dx = dy · [y &gt; 0]).</summary>
public sealed class ReLU<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output, _gradInput;   // y is kept for backward (dx needs [y > 0]); both buffers are reused

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var y = Buffers.EnsureLike(ref _output, input);
        Workers.Run(new ReluForward(input.Data, y.Data), input.Numel);
        return y;
    }

    /// <summary>y = max(x, 0), chunk by chunk.</summary>
    private readonly struct ReluForward(T[] x, T[] y) : IChunkJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int chunks)
        {
            var (start, end) = Workers.Range(x.Length, chunk, chunks);
            Elementwise.Relu<T>(x.AsSpan(start, end - start), y.AsSpan(start, end - start)); // y = max(x, 0)
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var y = _output ?? throw new InvalidOperationException("ReLU.Backward: call Forward first");
        Shapes.CheckSame("ReLU.Backward", gradOutput, y);
        var dx = Buffers.EnsureLike(ref _gradInput, y);
        Workers.Run(new ReluBackward(y.Data, gradOutput.Data, dx.Data), y.Numel);
        return dx;
    }

    /// <summary>dx = dy · [y &gt; 0], chunk by chunk.</summary>
    private readonly struct ReluBackward(T[] y, T[] dy, T[] dx) : IChunkJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int chunks)
        {
            var (start, end) = Workers.Range(y.Length, chunk, chunks);
            int len = end - start;
            Elementwise.ReluBackward<T>(y.AsSpan(start, len), dy.AsSpan(start, len), dx.AsSpan(start, len)); // dx = dy · [y > 0]
        }
    }
}
