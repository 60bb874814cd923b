using Era.Engine;

namespace Era.Tests.Engine;

/// <summary>The library's <see cref="GradientCheck"/> (central finite differences in float64 against Backward), as assertions.</summary>
internal static class GradCheck
{
    public static Tensor<double> Random(Generator g, params int[] shape) => GradientCheck.Random(g, shape);

    /// <summary>Checks ∂L/∂x and ∂L/∂θ for L = Σ r ⊙ module(x) with a fixed random r (so ∂L/∂y = r).</summary>
    public static void Module(Module<double> m, Tensor<double> x, double tol = 1e-7, int maxPerTensor = int.MaxValue, bool checkInput = true) =>
        Assert(GradientCheck.Module(m, x, maxPerTensor, checkInput), tol);

    /// <summary>Checks the gradient of a scalar loss(model(x)) whose Backward is given.</summary>
    public static void Check(Module<double> m, Tensor<double> x, Func<Tensor<double>> backward, Func<double> loss,
        double tol, int maxPerTensor, bool checkInput = true) =>
        Assert(GradientCheck.Check(m, x, backward, loss, maxPerTensor, checkInput), tol);

    public static double Dot(Tensor<double> a, Tensor<double> b) => GradientCheck.Dot(a, b);

    private static void Assert(IReadOnlyList<GradientProbe> probes, double tol)
    {
        Xunit.Assert.NotEmpty(probes);
        foreach (var p in probes)
            Xunit.Assert.True(p.ScaledError <= tol,
                $"{p.Tensor}[{p.Index}]: backward {p.Backward:R} vs finite difference {p.FiniteDifference:R} (error {p.Error:E2})");
    }
}
