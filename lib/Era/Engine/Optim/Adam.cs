using System.Numerics;
using System.Numerics.Tensors;

namespace Era.Engine.Optim;

/// <summary>
/// Adam (Kingma and Ba), as torch.optim.Adam in PyTorch 1.13; <see cref="AdamW{T}"/> is the same with decoupled
/// weight decay. Per parameter p with gradient g, at step t:
/// <code>
///   g = g + weight_decay·p                     (Adam: L2 penalty in the gradient)
///   p = p·(1 − lr·weight_decay)                (AdamW: decay the weight directly instead)
///   m = β1·m + (1 − β1)·g                      (first moment: running mean of gradients)
///   v = β2·v + (1 − β2)·g²                     (second moment: running mean of squared gradients)
///   v̂ = amsgrad ? max(v̂, v) : v
///   p = p − lr/(1 − β1^t) · m / (sqrt(v̂)/sqrt(1 − β2^t) + eps)     (bias-corrected; eps outside the sqrt)
/// </code>
/// </summary>
public class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _m, _v, _scratch;
    private readonly T[]?[] _vMax;
    private readonly long[] _steps;
    private readonly bool _decoupled;

    public Adam(IEnumerable<Parameter<T>> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weight_decay = 0, bool amsgrad = false)
        : this(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled: false) { }

    private protected Adam(IEnumerable<Parameter<T>> parameters, double lr, double beta1, double beta2, double eps,
        double weight_decay, bool amsgrad, bool decoupled) : base(parameters, lr)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "invalid beta1 (must be in [0, 1))");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "invalid beta2 (must be in [0, 1))");
        CheckNonNegative(eps, "eps");
        CheckNonNegative(weight_decay, "weight_decay");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weight_decay;
        AmsGrad = amsgrad;
        _decoupled = decoupled;
        _m = Parameters.Select(p => new T[p.Numel]).ToArray();
        _v = Parameters.Select(p => new T[p.Numel]).ToArray();
        _scratch = Parameters.Select(p => new T[p.Numel]).ToArray();
        _vMax = Parameters.Select(p => amsgrad ? new T[p.Numel] : null).ToArray();
        _steps = new long[Parameters.Count];
    }

    public double Beta1 { get; set; }
    public double Beta2 { get; set; }
    public double Eps { get; set; }
    public double WeightDecay { get; set; }
    public bool AmsGrad { get; }

    public override double CycledMomentum { get => Beta1; set => Beta1 = value; }

    /// <summary>First moment m of parameter <paramref name="index"/>.</summary>
    public ReadOnlySpan<T> ExpAvg(int index) => _m[index];

    /// <summary>Second moment v of parameter <paramref name="index"/>.</summary>
    public ReadOnlySpan<T> ExpAvgSq(int index) => _v[index];

    protected override void Update(int index, Parameter<T> p)
    {
        Span<T> value = p.Value.Data;
        ReadOnlySpan<T> g = p.Grad.Data;
        Span<T> m = _m[index], v = _v[index], s = _scratch[index];
        long t = ++_steps[index];

        if (WeightDecay != 0)
        {
            if (_decoupled)
            {
                TensorPrimitives.Multiply(value, Scalar(1 - LearningRate * WeightDecay), value);   // p·(1 − lr·wd)
            }
            else
            {
                TensorPrimitives.MultiplyAdd(value, Scalar(WeightDecay), g, s);                 // g + wd·p
                g = s;
            }
        }

        TensorPrimitives.Multiply(m, Scalar(Beta1), m);
        TensorPrimitives.MultiplyAdd(g, Scalar(1 - Beta1), m, m);                                // m = β1·m + (1 − β1)·g
        TensorPrimitives.Multiply(g, g, s);                                                      // g² (g is no longer needed)
        TensorPrimitives.Multiply(v, Scalar(Beta2), v);
        TensorPrimitives.MultiplyAdd(s, Scalar(1 - Beta2), v, v);                                // v = β2·v + (1 − β2)·g²

        ReadOnlySpan<T> vHat = v;
        if (_vMax[index] is { } vMax)
        {
            TensorPrimitives.Max(vMax, v, vMax);                                                 // amsgrad: the largest v so far
            vHat = vMax;
        }

        double biasCorrection1 = 1 - Math.Pow(Beta1, t);
        double biasCorrection2 = 1 - Math.Pow(Beta2, t);
        double stepSize = LearningRate / biasCorrection1;
        TensorPrimitives.Sqrt(vHat, s);
        TensorPrimitives.Divide(s, Scalar(Math.Sqrt(biasCorrection2)), s);
        TensorPrimitives.Add(s, Scalar(Eps), s);                                                 // denominator
        TensorPrimitives.Divide(m, s, s);
        TensorPrimitives.MultiplyAdd(s, Scalar(-stepSize), value, value);                        // p − step·m/denom
    }
}

/// <summary>
/// AdamW (Loshchilov and Hutter), as torch.optim.AdamW: Adam whose weight decay shrinks the weights directly,
/// p = p·(1 − lr·weight_decay), instead of adding weight_decay·p to the gradient. Default weight_decay 0.01 as PyTorch.
/// </summary>
public sealed class AdamW<T>(IEnumerable<Parameter<T>> parameters, double lr = 1e-3, double beta1 = 0.9,
    double beta2 = 0.999, double eps = 1e-8, double weight_decay = 1e-2, bool amsgrad = false)
    : Adam<T>(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled: true)
    where T : unmanaged, IFloatingPointIeee754<T>;
