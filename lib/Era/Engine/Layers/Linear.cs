using System.Numerics;
using System.Runtime.CompilerServices;

namespace Era.Engine.Layers;

/// <summary>
/// y = x·Wᵀ + b with x [N, in], W [out, in], b [out] → y [N, out], as torch.nn.Linear.
/// Local derivatives: ∂y/∂W = x, ∂y/∂b = 1, ∂y/∂x = W, so dW += dyᵀ·x, db += Σ_n dy, dx = dy·W.
/// Init as PyTorch: W and b ~ U(−1/√in, 1/√in) (kaiming_uniform_ with a = √5).
/// </summary>
public sealed class Linear<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input, _output, _gradInput;

    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        if (inFeatures < 1 || outFeatures < 1) throw new ArgumentException($"Linear: sizes must be positive, got in {inFeatures}, out {outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        weight = RegisterParameter("weight", new Tensor<T>(outFeatures, inFeatures));
        init.kaiming_uniform_(weight.Value, Math.Sqrt(5), inFeatures);
        if (bias)
        {
            this.bias = RegisterParameter("bias", new Tensor<T>(outFeatures));
            double bound = 1 / Math.Sqrt(inFeatures);
            init.uniform_(this.bias.Value, -bound, bound);
        }
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
#pragma warning disable IDE1006 // PyTorch names
    public Parameter<T> weight { get; }
    public Parameter<T>? bias { get; }
#pragma warning restore IDE1006

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        Shapes.CheckInput("Linear", input, -1, InFeatures);
        _input = input;
        int n = input.Shape[0], inF = InFeatures, outF = OutFeatures;
        var y = Buffers.Ensure(ref _output, n, outF);
        var x = input.Data;
        var w = weight.Value.Data;
        for (int i = 0; i < n; i++)
            for (int o = 0; o < outF; o++)
            {
                T s = bias is null ? T.Zero : bias.Value.Data[o];
                for (int k = 0; k < inF; k++) s += x[i * inF + k] * w[o * inF + k];
                y.Data[i * outF + o] = s;
            }
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var input = _input ?? throw new InvalidOperationException("Linear.Backward: call Forward first");
        Shapes.CheckSame("Linear.Backward", gradOutput, _output!);
        int n = input.Shape[0], inF = InFeatures, outF = OutFeatures;
        var dx = Buffers.Ensure(ref _gradInput, n, inF);
        var x = input.Data;
        var w = weight.Value.Data;
        var dw = weight.Grad.Data;
        var dy = gradOutput.Data;
        dx.Zero();
        for (int i = 0; i < n; i++)
            for (int o = 0; o < outF; o++)
            {
                T g = dy[i * outF + o];
                if (bias is not null) bias.Grad.Data[o] += g;                // db += dy
                for (int k = 0; k < inF; k++)
                {
                    dw[o * inF + k] += g * x[i * inF + k];                     // dW += dyᵀ·x
                    dx.Data[i * inF + k] += g * w[o * inF + k];                // dx = dy·W
                }
            }
        return dx;
    }
}
