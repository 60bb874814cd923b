using System.Numerics;
using Era.Engine.Layers;

namespace Era.Engine.Models;

/// <summary>
/// The course model, 14,656 parameters (under the assignment's 20,000): the reference design a little wider.
/// [N, 1, 28, 28] → 26 → 24 → 22 → pool 11 → 1×1 → 9 → 7 → 5 → 5 (padding 1) → GAP → 20 → 10 log-probabilities.
/// <code>
///   f = Sequential(blk(1, 10), blk(10, 16), blk(16, 16), MaxPool2d(2), Conv2d(16, 10, 1, bias=False),
///                  blk(10, 16), blk(16, 16), blk(16, 20), blk(20, 20, p=1), AdaptiveAvgPool2d(1))
///   fc = Linear(20, 10)
/// </code>
/// batchNorm: false and globalAvgPool: false build the ablation's variants (blocks without BatchNorm2d, with conv bias; fc on the flattened features).
/// </summary>
public class CourseNet<T>(double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true)
    : MnistNet<T>("course", Features(dropout, batchNorm), 20, 5, globalAvgPool)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // f without its last layer, AdaptiveAvgPool2d(1), which MnistNet appends (unless the ablation leaves it out).
    private static Sequential<T> Features(double d, bool bn) => new(
        Block(1, 10, d, batchNorm: bn), Block(10, 16, d, batchNorm: bn), Block(16, 16, d, batchNorm: bn), new MaxPool2d<T>(2), new Conv2d<T>(16, 10, 1, bias: false),
        Block(10, 16, d, batchNorm: bn), Block(16, 16, d, batchNorm: bn), Block(16, 20, d, batchNorm: bn), Block(20, 20, d, padding: 1, batchNorm: bn));
}

/// <summary>The float CourseNet used for training.</summary>
public sealed class CourseNet(double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true)
    : CourseNet<float>(dropout, batchNorm, globalAvgPool);
