namespace Era.Engine;

/// <summary>One probed entry of a gradient check: what Backward computed against the central finite difference.</summary>
public readonly record struct GradientProbe(string Tensor, int Index, double Backward, double FiniteDifference)
{
    public double Error => Math.Abs(Backward - FiniteDifference);

    /// <summary>|backward − numeric| / (1 + |numeric|): absolute for small gradients, relative for large ones.</summary>
    public double ScaledError => Error / (1 + Math.Abs(FiniteDifference));
}

/// <summary>
/// The chain rule, checked by the definition of a derivative: for L = Σ r ⊙ module(x) with a fixed random r (so
/// ∂L/∂y = r), each probed entry θ of the input and of every parameter gets
/// <c>∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / 2h</c> (error O(h²)) beside the value Backward computed. Float64 modules only:
/// in float32 the rounding error of the difference swamps the answer.
/// </summary>
public static class GradientCheck
{
    public const double Step = 1e-6;

    /// <summary>A tensor of uniform values in [−1, 1) drawn from <paramref name="g"/>.</summary>
    public static Tensor<double> Random(Generator g, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(g);
        var t = new Tensor<double>(shape);
        for (int i = 0; i < t.Numel; i++) t.Data[i] = g.Uniform(-1, 1);
        return t;
    }

    /// <summary>
    /// Probes ∂L/∂x and ∂L/∂θ for every parameter θ of <paramref name="module"/>; at most
    /// <paramref name="maxPerTensor"/> entries of each tensor, evenly spread.
    /// </summary>
    public static IReadOnlyList<GradientProbe> Module(Module<double> module, Tensor<double> x, int maxPerTensor = int.MaxValue, bool checkInput = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(x);
        var y = module.Forward(x);
        var r = Random(new Generator(99), y.Shape);
        return Check(module, x, () => module.Backward(r.Clone()), () => Dot(module.Forward(x), r), maxPerTensor, checkInput);
    }

    /// <summary>Probes the gradient of a scalar <paramref name="loss"/>() whose backward pass is <paramref name="backward"/>.</summary>
    public static IReadOnlyList<GradientProbe> Check(Module<double> module, Tensor<double> x, Func<Tensor<double>> backward, Func<double> loss,
        int maxPerTensor = int.MaxValue, bool checkInput = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(backward);
        ArgumentNullException.ThrowIfNull(loss);
        foreach (var p in module.parameters()) p.Grad.Zero();
        var dx = backward().Clone();
        var analytic = module.NamedParameters().Select(p => (p.Name, p.Parameter.Value, Grad: p.Parameter.Grad.Clone())).ToList();
        var probes = new List<GradientProbe>();
        if (checkInput) Probe("input", x, dx, loss, maxPerTensor, probes);
        foreach (var (name, value, grad) in analytic) Probe(name, value, grad, loss, maxPerTensor, probes);
        return probes;
    }

    private static void Probe(string name, Tensor<double> t, Tensor<double> grad, Func<double> loss, int max, List<GradientProbe> probes)
    {
        int step = Math.Max(1, t.Numel / Math.Max(1, Math.Min(max, t.Numel)));
        for (int i = 0; i < t.Numel; i += step)
        {
            double old = t.Data[i];
            t.Data[i] = old + Step;
            double plus = loss();
            t.Data[i] = old - Step;
            double minus = loss();
            t.Data[i] = old;
            probes.Add(new GradientProbe(name, i, grad.Data[i], (plus - minus) / (2 * Step)));
        }
    }

    /// <summary>Σ a ⊙ b.</summary>
    public static double Dot(Tensor<double> a, Tensor<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        double s = 0;
        for (int i = 0; i < a.Numel; i++) s += a.Data[i] * b.Data[i];
        return s;
    }
}
