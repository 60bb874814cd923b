using System.Numerics;
using Era.Engine.Layers;

namespace Era.Engine.Models;

/// <summary>
/// The tiny model, 7,546 parameters (under 8,000): two blocks before the pool instead of three.
/// <code>
///   f = Sequential(blk(1, 8), blk(8, 12), MaxPool2d(2), Conv2d(12, 8, 1, bias=False),
///                  blk(8, 12), blk(12, 12), blk(12, 16), blk(16, 16, p=1), AdaptiveAvgPool2d(1))
///   fc = Linear(16, 10)
/// </code>
/// batchNorm: false and globalAvgPool: false build the ablation's variants (blocks without BatchNorm2d, with conv bias; fc on the flattened features).
/// [N, 1, 28, 28] → 26 → 24 → 12 → 10 → 8 → 6 → 6 (padding 1) → GAP.
/// </summary>
public class TinyNet<T>(double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true)
    : MnistNet<T>("tiny", Features(dropout, batchNorm), 16, 6, globalAvgPool)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // f without its last layer, AdaptiveAvgPool2d(1), which MnistNet appends (unless the ablation leaves it out).
    private static Sequential<T> Features(double d, bool bn) => new(
        Block(1, 8, d, batchNorm: bn), Block(8, 12, d, batchNorm: bn), new MaxPool2d<T>(2), new Conv2d<T>(12, 8, 1, bias: false),
        Block(8, 12, d, batchNorm: bn), Block(12, 12, d, batchNorm: bn), Block(12, 16, d, batchNorm: bn), Block(16, 16, d, padding: 1, batchNorm: bn));
}

/// <summary>The float TinyNet used for training.</summary>
public sealed class TinyNet(double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true)
    : TinyNet<float>(dropout, batchNorm, globalAvgPool);
