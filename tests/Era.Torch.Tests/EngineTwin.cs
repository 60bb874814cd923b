using System.Numerics;
using Era.Engine;
using Era.Engine.Layers;
using Era.Engine.Models;

namespace Era.Torch.Tests;

/// <summary>
/// An Era.Engine model built from the same <see cref="Architecture"/> as the TorchSharp one, layer by layer from the
/// engine's own modules (for reference, the engine's real ReferenceNet is used instead): the other side of every parity test.
/// </summary>
internal sealed class EngineTwin<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public EngineTwin(Architecture a, double dropout = 0.05)
    {
        var layers = a.Features.Select(l => l switch
        {
            Block b => (Module<T>)new Sequential<T>(new Conv2d<T>(b.In, b.Out, 3, padding: b.Padding, bias: false),
                new BatchNorm2d<T>(b.Out), new ReLU<T>(), new Dropout<T>(dropout)),
            MaxPool => new MaxPool2d<T>(2),
            Transition t => new Conv2d<T>(t.In, t.Out, 1, bias: false),
            GlobalAvgPool => new AdaptiveAvgPool2d<T>(1),
            _ => throw new ArgumentException(l.ToString()),
        }).ToArray();
        F = RegisterModule("f", new Sequential<T>(layers));
        Flat = RegisterModule("flatten", new Flatten<T>());
        Fc = RegisterModule("fc", new Linear<T>(a.FeatureChannels, a.Classes));
        LogSoftmax = RegisterModule("log_softmax", new LogSoftmax<T>(1));
    }

    private Sequential<T> F { get; }
    private Flatten<T> Flat { get; }
    private Linear<T> Fc { get; }
    private LogSoftmax<T> LogSoftmax { get; }

    public override Tensor<T> Forward(Tensor<T> input) => LogSoftmax.Forward(Fc.Forward(Flat.Forward(F.Forward(input))));

    public override Tensor<T> Backward(Tensor<T> gradOutput) => F.Backward(Flat.Backward(Fc.Backward(LogSoftmax.Backward(gradOutput))));

    /// <summary>The engine model for an architecture: ReferenceNet for reference, a twin for the others.</summary>
    public static Module<T> For(Architecture a, double dropout = 0.05) =>
        a.Name == "reference" ? new ReferenceNet<T>(dropout) : new EngineTwin<T>(a, dropout);
}

/// <summary>The float engine models (training precision).</summary>
internal static class EngineTwin
{
    public static Module<float> For(Architecture a, double dropout = 0.05) => EngineTwin<float>.For(a, dropout);
}
