using System.Numerics;
using System.Numerics.Tensors;

namespace Era.Engine.Optim;

/// <summary>
/// Stochastic gradient descent with momentum, as torch.optim.SGD (PyTorch 1.13), per parameter p with gradient g:
/// <code>
///   g   = g + weight_decay·p                         (L2 penalty folded into the gradient)
///   buf = g                    on the first step      (momentum buffer starts at the gradient)
///   buf = μ·buf + (1 − dampening)·g   afterwards
///   g   = nesterov ? g + μ·buf : buf
///   p   = p − lr·g
/// </code>
/// The arithmetic runs in T (float), with the scalars rounded to T first, as PyTorch does for float tensors.
/// </summary>
public sealed class SGD<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[]?[] _momentumBuffers;
    private readonly T[][] _scratch;

    public SGD(IEnumerable<Parameter<T>> parameters, double lr, double momentum = 0, double dampening = 0,
        double weight_decay = 0, bool nesterov = false) : base(parameters, lr)
    {
        CheckNonNegative(momentum, "momentum");
        CheckNonNegative(weight_decay, "weight_decay");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening");
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weight_decay;
        Nesterov = nesterov;
        _momentumBuffers = new T[]?[Parameters.Count];
        // One scratch array per parameter, allocated now so that step() allocates nothing.
        _scratch = Parameters.Select(p => new T[p.Numel]).ToArray();
    }

    public double Momentum { get; set; }
    public double Dampening { get; set; }
    public double WeightDecay { get; set; }
    public bool Nesterov { get; }

    public override double CycledMomentum { get => Momentum; set => Momentum = value; }

    /// <summary>The momentum buffer of parameter <paramref name="index"/> (null before the first step with momentum).</summary>
    public ReadOnlySpan<T> MomentumBuffer(int index) => _momentumBuffers[index];

    protected override void Update(int index, Parameter<T> p)
    {
        Span<T> value = p.Value.Data;
        ReadOnlySpan<T> d = p.Grad.Data;
        Span<T> scratch = _scratch[index];

        if (WeightDecay != 0)
        {
            TensorPrimitives.MultiplyAdd(value, Scalar(WeightDecay), d, scratch);   // g + wd·p
            d = scratch;
        }

        if (Momentum != 0)
        {
            T[]? buf = _momentumBuffers[index];
            if (buf is null)
            {
                buf = _momentumBuffers[index] = new T[d.Length];  // once per parameter, at the first step
                d.CopyTo(buf);
            }
            else
            {
                TensorPrimitives.Multiply(buf, Scalar(Momentum), buf);                    // μ·buf
                TensorPrimitives.MultiplyAdd(d, Scalar(1 - Dampening), buf, buf);         // + (1 − dampening)·g
            }

            if (Nesterov)
            {
                TensorPrimitives.MultiplyAdd(buf, Scalar(Momentum), d, scratch);          // g + μ·buf
                d = scratch;
            }
            else
            {
                d = buf;
            }
        }

        TensorPrimitives.MultiplyAdd(d, Scalar(-LearningRate), value, value);            // p − lr·g
    }
}
