using System.Numerics;
using System.Runtime.CompilerServices;
using Era.Engine.Kernels;

namespace Era.Engine.Layers;

/// <summary>y = max(x, 0). Local derivative: ∂y/∂x = 1 where x &gt; 0, else 0 (so dx = dy · [y &gt; 0]).</summary>
public sealed class ReLU<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input, _output, _gradOutput, _gradInput;
    private readonly Action<int> _forwardChunk, _backwardChunk;

    public ReLU()
    {
        _forwardChunk = ForwardChunk;
        _backwardChunk = BackwardChunk;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        _input = input;
        Buffers.EnsureLike(ref _output, input);
        Workers.Run(_forwardChunk, input.Numel);
        return _output!;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardChunk(int chunk)
    {
        var (start, end) = Workers.Range(_input!.Numel, chunk, Workers.Threads);
        Elementwise.Relu<T>(_input.Data.AsSpan(start, end - start), _output!.Data.AsSpan(start, end - start)); // y = max(x, 0)
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var y = _output ?? throw new InvalidOperationException("ReLU.Backward: call Forward first");
        Shapes.CheckSame("ReLU.Backward", gradOutput, y);
        _gradOutput = gradOutput;
        Buffers.EnsureLike(ref _gradInput, y);
        Workers.Run(_backwardChunk, y.Numel);
        return _gradInput!;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardChunk(int chunk)
    {
        var (start, end) = Workers.Range(_output!.Numel, chunk, Workers.Threads);
        int len = end - start;
        Elementwise.ReluBackward<T>(_output.Data.AsSpan(start, len), _gradOutput!.Data.AsSpan(start, len), _gradInput!.Data.AsSpan(start, len)); // dx = dy · [y > 0]
    }
}
