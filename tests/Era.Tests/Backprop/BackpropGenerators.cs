using Era.Backprop;
using FsCheck;
using FsCheck.Fluent;

namespace Era.Tests.Backprop;

/// <summary>Random network configurations for property tests: inputs, targets, weights, η and (half the time) biases.</summary>
internal static class BackpropGenerators
{
    /// <summary>Uniform in [lo, hi], on a grid fine enough for float64 checks.</summary>
    public static Gen<double> Uniform(double lo, double hi) =>
        Gen.Choose(0, 1_000_000).Select(k => lo + (hi - lo) * k / 1_000_000.0);

    public static Gen<NetworkConfig> Configs { get; } =
        from inputs in Gen.ArrayOf(Uniform(-2, 2), 2)
        from targets in Gen.ArrayOf(Uniform(0, 1), 2)
        from weights in Gen.ArrayOf(Uniform(-3, 3), 8)
        from lr in Uniform(0.01, 2)
        from withBiases in Gen.Elements(true, false)
        from biases in Gen.ArrayOf(Uniform(-1, 1), 2)
        select new NetworkConfig(inputs[0], inputs[1], targets[0], targets[1], Weights.FromArray(weights), lr,
            withBiases ? biases[0] : 0, withBiases ? biases[1] : 0);

    public static Arbitrary<NetworkConfig> ConfigArb { get; } = Configs.ToArbitrary();

    public static Config Runs(int n) => Config.QuickThrowOnFailure.WithMaxTest(n);

    /// <summary>Central difference (E(w + h) − E(w − h)) / 2h for weight k.</summary>
    public static double FiniteDifference(NetworkConfig c, int k, double h = 1e-6)
    {
        var w = c.Weights.ToArray();
        var plus = (double[])w.Clone();
        var minus = (double[])w.Clone();
        plus[k - 1] += h;
        minus[k - 1] -= h;
        return (TwoLayerNetwork.Loss(c, Weights.FromArray(plus)) - TwoLayerNetwork.Loss(c, Weights.FromArray(minus))) / (2 * h);
    }

    /// <summary>|a − b| within an absolute floor plus a relative part.</summary>
    public static bool Close(double a, double b, double tol) => Math.Abs(a - b) <= tol * (1 + Math.Max(Math.Abs(a), Math.Abs(b)));
}
