using System.Numerics;
using Era.Engine.Layers;

namespace Era.Engine.Models;

/// <summary>
/// The course's reference MNIST CNN, module for module the PyTorch model of shared/anchors/pytorch_mnist.py, so
/// state_dict names match (f.0.0.weight, f.0.1.running_mean, f.4.weight, fc.bias, …) — 12,098 parameters:
/// <code>
///   f = Sequential(blk(1, 8), blk(8, 16), blk(16, 16), MaxPool2d(2), Conv2d(16, 8, 1, bias=False),
///                  blk(8, 16), blk(16, 16), blk(16, 16), blk(16, 16, p=1), AdaptiveAvgPool2d(1))
///   blk(i, o, p=0) = Sequential(Conv2d(i, o, 3, padding=p, bias=False), BatchNorm2d(o), ReLU(), Dropout(d))
///   forward(x) = log_softmax(fc(flatten(f(x))), 1),   fc = Linear(16, 10)
/// </code>
/// batchNorm: false and globalAvgPool: false build the ablation's variants (blocks without BatchNorm2d, with conv bias; fc on the flattened features).
/// [N, 1, 28, 28] → 26 → 24 → 22 → pool 11 → 1×1 → 9 → 7 → 5 → 5 (padding 1) → GAP → 16 → 10 log-probabilities.
/// </summary>
public class ReferenceNet<T>(double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true)
    : MnistNet<T>("reference", Features(dropout, batchNorm), 16, 5, globalAvgPool)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // Built in PyTorch's order; weights are drawn from the seeded generator in this order.
    // f without its last layer, AdaptiveAvgPool2d(1), which MnistNet appends (unless the ablation leaves it out).
    private static Sequential<T> Features(double d, bool bn) => new(
        Block(1, 8, d, batchNorm: bn), Block(8, 16, d, batchNorm: bn), Block(16, 16, d, batchNorm: bn), new MaxPool2d<T>(2), new Conv2d<T>(16, 8, 1, bias: false),
        Block(8, 16, d, batchNorm: bn), Block(16, 16, d, batchNorm: bn), Block(16, 16, d, batchNorm: bn), Block(16, 16, d, padding: 1, batchNorm: bn));
}

/// <summary>The float ReferenceNet used for training.</summary>
public sealed class ReferenceNet(double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true)
    : ReferenceNet<float>(dropout, batchNorm, globalAvgPool);
