using Era.Backprop;

namespace Era.Tests.Cli;

public class DeriveCliTests
{
    [Fact]
    public void DefaultIsAllEightWeightsAsText()
    {
        var (exit, stdout, stderr) = CliRunner.Run("derive");
        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        Assert.StartsWith("values at i1 = 0.05, i2 = 0.1, t1 = 0.01, t2 = 0.99, w1 = 0.15", stdout);
        foreach (var w in Weights.Names) Assert.Contains($"E_total = E1 + E2, so ∂E_total/∂{w} = ∂E1/∂{w} + ∂E2/∂{w}", stdout);
        Assert.Contains("∂E_total/∂w5 = (a_o1 − t1)·a_o1·(1 − a_o1)·a_h1 = ", stdout);
    }

    [Fact]
    public void JsIsThePlaygroundsNetworkScript()
    {
        var (exit, stdout, stderr) = CliRunner.Run("derive", "--format", "js");
        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        Assert.Equal(Era.Symbolic.NetworkScript.Generate(), stdout);
        (exit, _, stderr) = CliRunner.Run("derive", "--format", "js", "--weight", "w5");
        Assert.Equal(2, exit);
        Assert.Contains("--weight", stderr);
        Assert.Contains("--format js writes the whole network", stderr);
    }

    [Fact]
    public void OneWeightAndValuesFollowTheBiases()
    {
        var (exit, stdout, _) = CliRunner.Run("derive", "--weight", "w5", "--biases", "0.35,0.6");
        Assert.Equal(0, exit);
        Assert.Contains("b1 = 0.35, b2 = 0.6", stdout);
        Assert.Contains("∂o1/∂w5 = ∂/∂w5 [w5·a_h1 + w6·a_h2 + b2] = a_h1 = 0.5932699921", stdout); // Mazur's a_h1 0.593269992
        Assert.DoesNotContain("∂E_total/∂w1", stdout);
        // The value matches the table's gradient to the ten digits shown.
        var c = NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 };
        double g = TwoLayerNetwork.Gradients(c, c.Weights, TwoLayerNetwork.Forward(c, c.Weights)).W5;
        Assert.EndsWith($" = {g.ToString("G10", System.Globalization.CultureInfo.InvariantCulture)}\n", stdout);
    }

    [Fact]
    public void LatexIsOneDisplayBlockPerWeight()
    {
        var (exit, stdout, _) = CliRunner.Run("derive", "--format", "latex", "--preset", "era");
        Assert.Equal(0, exit);
        Assert.Equal(9 * 2, stdout.Split("$$").Length - 1); // the values, then w1..w8
        Assert.Equal(8, stdout.Split(@"\begin{aligned}").Length - 1);
        Assert.Contains(@"t_{1} = 0.5,\; t_{2} = 0.5", stdout);
    }

    [Theory]
    [InlineData("--weight", "w9")]
    [InlineData("--weight", "b1")]
    [InlineData("--format", "html")]
    [InlineData("--biases", "1,x")]
    [InlineData("--weights", "1,2")]
    [InlineData("--preset", "nope")]
    public void BadInputIsOneLineNamingTheOption(string option, string value)
    {
        var (exit, stdout, stderr) = CliRunner.Run("derive", option, value);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith($"era: {option}: ", stderr);
    }
}
