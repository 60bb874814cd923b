using Era.Backprop;
using FsCheck;
using FsCheck.Fluent;
using static Era.Tests.Backprop.BackpropGenerators;

namespace Era.Tests.Backprop;

public class BackpropGradientTests
{
    [Fact]
    public void EveryGradientMatchesACentralFiniteDifference()
    {
        Check.One(Runs(300), Prop.ForAll(ConfigArb, c =>
        {
            var g = TwoLayerNetwork.Gradients(c, c.Weights, TwoLayerNetwork.Forward(c, c.Weights));
            for (int k = 1; k <= Weights.Count; k++)
            {
                double fd = FiniteDifference(c, k);
                if (!Close(g[k], fd, 1e-7)) throw new Exception($"dE/dw{k}: closed form {g[k]:R}, finite difference {fd:R} at {c}");
            }
            return true;
        }));
    }

    [Fact]
    public void BiasesShiftBothUnitsOfTheirLayer()
    {
        Check.One(Runs(100), Prop.ForAll(ConfigArb, c =>
        {
            var withBias = c with { B1 = 0.3, B2 = -0.7 };
            var f0 = TwoLayerNetwork.Forward(c with { B1 = 0, B2 = 0 }, c.Weights);
            var f = TwoLayerNetwork.Forward(withBias, c.Weights);
            return Close(f.H1, f0.H1 + 0.3, 1e-12) && Close(f.H2, f0.H2 + 0.3, 1e-12)
                && Close(f.O1, c.Weights.W5 * f.AH1 + c.Weights.W6 * f.AH2 - 0.7, 1e-12)
                && Close(f.O2, c.Weights.W7 * f.AH1 + c.Weights.W8 * f.AH2 - 0.7, 1e-12);
        }));
    }

    [Fact]
    public void EraPresetHasBothTargetsAtOneHalf()
    {
        var c = NetworkConfig.Era;
        var f = TwoLayerNetwork.Forward(c, c.Weights);
        // E = ½(0.5 − a_o1)² + ½(0.5 − a_o2)² with the outputs above (same weights and inputs as classic).
        Assert.Equal(0.5 * Math.Pow(0.5 - 0.606477732206728, 2) + 0.5 * Math.Pow(0.5 - 0.6304808354506348, 2), f.ETotal, 14);
    }
}
