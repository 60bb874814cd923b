using System.Numerics;

namespace Era.Engine;

/// <summary>A trainable tensor and the gradient of the loss with respect to it (same shape), accumulated by backward.</summary>
public sealed class Parameter<T>(Tensor<T> value) where T : unmanaged, IFloatingPointIeee754<T>
{
    public Tensor<T> Value { get; } = value;
    public Tensor<T> Grad { get; } = new Tensor<T>(value.Shape);
    public bool RequiresGrad { get; set; } = true;
    public int[] Shape => Value.Shape;
    public int Numel => Value.Numel;
}
