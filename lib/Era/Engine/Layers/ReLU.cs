using System.Numerics;

namespace Era.Engine.Layers;

/// <summary>y = max(x, 0). Local derivative: ∂y/∂x = 1 where x &gt; 0, else 0 (so dx = dy · [y &gt; 0]).</summary>
public sealed class ReLU<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output, _gradInput;

    public override Tensor<T> Forward(Tensor<T> input)
    {
        var y = Buffers.EnsureLike(ref _output, input);
        Kernels.Elementwise.Relu<T>(input.Data, y.Data);
        return y;
    }

    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var y = _output ?? throw new InvalidOperationException("ReLU.Backward: call Forward first");
        Shapes.CheckSame("ReLU.Backward", gradOutput, y);
        var dx = Buffers.EnsureLike(ref _gradInput, y);
        Kernels.Elementwise.ReluBackward<T>(y.Data, gradOutput.Data, dx.Data); // dx = dy · [y > 0]
        return dx;
    }
}
