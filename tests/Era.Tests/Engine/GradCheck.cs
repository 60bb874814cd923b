using Era.Engine;

namespace Era.Tests.Engine;

/// <summary>Central finite differences in float64 against a module's Backward, for its input and every parameter.</summary>
internal static class GradCheck
{
    public static Tensor<double> Random(Generator g, params int[] shape)
    {
        var t = new Tensor<double>(shape);
        for (int i = 0; i < t.Numel; i++) t.Data[i] = g.Uniform(-1, 1);
        return t;
    }

    /// <summary>
    /// Checks ∂L/∂x and ∂L/∂θ for L = Σ r ⊙ module(x) with a fixed random r (so ∂L/∂y = r).
    /// <paramref name="maxPerTensor"/> limits how many entries of each tensor are probed (evenly spread).
    /// </summary>
    public static void Module(Module<double> m, Tensor<double> x, double tol = 1e-7, int maxPerTensor = int.MaxValue, bool checkInput = true)
    {
        var g = new Generator(99);
        var y = m.Forward(x);
        var r = Random(g, y.Shape);
        Check(m, x, () => m.Backward(r.Clone()), () => Dot(m.Forward(x), r), tol, maxPerTensor, checkInput);
    }

    /// <summary>Checks the gradient of a scalar loss(model(x)) whose Backward is given.</summary>
    public static void Check(Module<double> m, Tensor<double> x, Func<Tensor<double>> backward, Func<double> loss,
        double tol, int maxPerTensor, bool checkInput = true)
    {
        foreach (var p in m.parameters()) p.Grad.Zero();
        var dx = backward().Clone();
        var analytic = m.NamedParameters().Select(p => (p.Name, p.Parameter.Value, Grad: p.Parameter.Grad.Clone())).ToList();
        if (checkInput) Compare("input", x, dx, loss, tol, maxPerTensor);
        foreach (var (name, value, grad) in analytic) Compare(name, value, grad, loss, tol, maxPerTensor);
    }

    private static void Compare(string name, Tensor<double> t, Tensor<double> grad, Func<double> loss, double tol, int max)
    {
        const double h = 1e-6;
        int step = Math.Max(1, t.Numel / Math.Min(max, t.Numel));
        for (int i = 0; i < t.Numel; i += step)
        {
            double old = t.Data[i];
            t.Data[i] = old + h;
            double plus = loss();
            t.Data[i] = old - h;
            double minus = loss();
            t.Data[i] = old;
            double numeric = (plus - minus) / (2 * h);
            double err = Math.Abs(numeric - grad.Data[i]);
            Assert.True(err <= tol * (1 + Math.Abs(numeric)),
                $"{name}[{i}]: backward {grad.Data[i]:R} vs finite difference {numeric:R} (error {err:E2})");
        }
    }

    public static double Dot(Tensor<double> a, Tensor<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Numel; i++) s += a.Data[i] * b.Data[i];
        return s;
    }
}
