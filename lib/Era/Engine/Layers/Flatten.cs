using System.Numerics;

namespace Era.Engine.Layers;

/// <summary>[N, C, H, W] → [N, C·H·W] (torch.flatten(x, 1)): a view, no copy. Backward reshapes the gradient back.</summary>
public sealed class Flatten<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private int[]? _inputShape;
    private Tensor<T>? _out, _gradIn;

    public override Tensor<T> Forward(Tensor<T> input)
    {
        if (input.Rank < 2) throw new ArgumentException($"Flatten: expected input of rank ≥ 2, got {Tensor<T>.ShapeString(input.Shape)}");
        _inputShape = input.Shape;
        int n = input.Shape[0], rest = input.Numel / Math.Max(n, 1);
        if (_out is null || _out.Data != input.Data || _out.Shape[0] != n || _out.Shape[1] != rest) _out = input.View(n, rest);
        return _out;
    }

    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var shape = _inputShape ?? throw new InvalidOperationException("Flatten.Backward: call Forward first");
        if (gradOutput.Numel != _out!.Numel) Shapes.CheckSame("Flatten.Backward", gradOutput, _out);
        if (_gradIn is null || _gradIn.Data != gradOutput.Data || !_gradIn.Shape.AsSpan().SequenceEqual(shape)) _gradIn = gradOutput.View(shape);
        return _gradIn;
    }
}
