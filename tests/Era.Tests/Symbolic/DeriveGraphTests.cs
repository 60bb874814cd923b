using Era.Symbolic;

namespace Era.Tests.Symbolic;

/// <summary>The derivation works for any graph, not just the 2-2-2 network: nothing in it is written per weight.</summary>
public class DeriveGraphTests
{
    private static readonly ComputationGraph OneNeuron = new(
    [
        new("z", new Var("w") * new Var("x") + new Var("b")),
        new("a", new Sigmoid(new Var("z"))),
        new("E", 0.5 * new Pow(new Var("t") - new Var("a"), 2)),
        new("L", 3 * new Var("E") + new Var("w") * new Var("w")),   // a loss with weight decay: two paths to w
    ]);

    private static readonly Dictionary<string, double> At = OneNeuron.Evaluate(new Dictionary<string, double>
    {
        ["w"] = 0.7,
        ["x"] = -1.3,
        ["b"] = 0.2,
        ["t"] = 0.9,
    });

    [Fact]
    public void ChainsComeFromTheGraph()
    {
        var d = Derivation.For(OneNeuron, "b", At);
        Assert.Equal(["E", "w"], d.Branches.Select(br => br.Of));
        Assert.Equal(["E/a", "a/z", "z/b"], Assert.Single(d.Branches[0].Chains).Factors.Select(f => $"{f.Of}/{f.Wrt}"));
        Assert.True(d.Branches[1].IsZero);
        Assert.Equal("3·(a − t)·a·(1 − a)", d.ClosedForm.ToString());
        Assert.Equal(d.ClosedForm, Derivation.ByExpansion(OneNeuron, "b"));
    }

    [Fact]
    public void WeightOnTwoPathsAddsThem()
    {
        var d = Derivation.For(OneNeuron, "w", At);
        Assert.Equal("3·(a − t)·a·(1 − a)·x + 2·w", d.ClosedForm.ToString());
        // (L(w + h) − L(w − h)) / 2h, by re-evaluating the graph.
        double L(double w) => OneNeuron.Evaluate(new Dictionary<string, double> { ["w"] = w, ["x"] = -1.3, ["b"] = 0.2, ["t"] = 0.9 })["L"];
        Assert.Equal((L(0.7 + 1e-6) - L(0.7 - 1e-6)) / 2e-6, d.Value, 8);
        string text = d.ToText();
        Assert.StartsWith("L = 3·E + w·w, so ∂L/∂w = 3·∂E/∂w + 2·w·∂w/∂w\n∂E/∂w = ∂E/∂a · ∂a/∂z · ∂z/∂w\n", text);
        Assert.Contains("∂w/∂w = 1 = 1\n", text);
        Assert.Contains(@"\frac{\partial L}{\partial w} = 3 \cdot \frac{\partial E}{\partial w} + 2 \cdot w \cdot \frac{\partial w}{\partial w}", d.ToLatex());
    }

    [Fact]
    public void BadGraphsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new ComputationGraph([new("y", new Var("y") + 1)]));
        Assert.Throws<ArgumentException>(() => new ComputationGraph([new("y", new Var("x")), new("y", new Var("x") * 2)]));
    }
}
