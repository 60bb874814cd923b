using Era.Backprop;

namespace Era.Tests.Backprop;

public class NetworkTests
{
    [Fact]
    public void ClassicForwardPassMatchesTheWorkedExample()
    {
        // The classic worked example with b1 = 0.35, b2 = 0.6 gives E_total = 0.298371109 (Mazur, 2015).
        var c = NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 };
        var f = TwoLayerNetwork.Forward(c, c.Weights);
        Assert.Equal(0.593269992, f.AH1, 9);
        Assert.Equal(0.596884378, f.AH2, 9);
        Assert.Equal(0.75136507, f.AO1, 8);
        Assert.Equal(0.772928465, f.AO2, 9);
        Assert.Equal(0.298371109, f.ETotal, 9);
        var g = TwoLayerNetwork.Gradients(c, c.Weights, f);
        Assert.Equal(0.082167041, g.W5, 9);
        Assert.Equal(0.000438568, g.W1, 9);
    }

    [Fact]
    public void ForwardPassWithoutBiasesMatchesAHandComputation()
    {
        // Computed independently in Python (math.exp) for the classic preset, no biases.
        var c = NetworkConfig.Classic;
        var f = TwoLayerNetwork.Forward(c, c.Weights);
        Assert.Equal(0.0275, f.H1, 15);
        Assert.Equal(0.5068745667645342, f.AH1, 14);
        Assert.Equal(0.5106234010049637, f.AH2, 14);
        Assert.Equal(0.606477732206728, f.AO1, 14);
        Assert.Equal(0.6304808354506348, f.AO2, 14);
        Assert.Equal(0.24251985734837728, f.ETotal, 14);
        var g = TwoLayerNetwork.Gradients(c, c.Weights, f);
        Assert.Equal(0.07215707291213626, g.W5, 14);
        Assert.Equal(0.0001882556669401121, g.W1, 15);
    }
}
