using Era.Backprop;
using Era.Symbolic;
using FsCheck;
using FsCheck.Fluent;
using static Era.Tests.Backprop.BackpropGenerators;

namespace Era.Tests.Symbolic;

/// <summary>The derivation of the 2-2-2 network: closed forms, chains, and values against the numeric core.</summary>
public class DeriveNetworkTests
{
    /// <summary>The closed forms as students write them (the issue's pattern for w5 and w1, the same for the others).</summary>
    public static TheoryData<string, string> ClosedForms => new()
    {
        { "w1", "((a_o1 − t1)·a_o1·(1 − a_o1)·w5 + (a_o2 − t2)·a_o2·(1 − a_o2)·w7)·a_h1·(1 − a_h1)·i1" },
        { "w2", "((a_o1 − t1)·a_o1·(1 − a_o1)·w5 + (a_o2 − t2)·a_o2·(1 − a_o2)·w7)·a_h1·(1 − a_h1)·i2" },
        { "w3", "((a_o1 − t1)·a_o1·(1 − a_o1)·w6 + (a_o2 − t2)·a_o2·(1 − a_o2)·w8)·a_h2·(1 − a_h2)·i1" },
        { "w4", "((a_o1 − t1)·a_o1·(1 − a_o1)·w6 + (a_o2 − t2)·a_o2·(1 − a_o2)·w8)·a_h2·(1 − a_h2)·i2" },
        { "w5", "(a_o1 − t1)·a_o1·(1 − a_o1)·a_h1" },
        { "w6", "(a_o1 − t1)·a_o1·(1 − a_o1)·a_h2" },
        { "w7", "(a_o2 − t2)·a_o2·(1 − a_o2)·a_h1" },
        { "w8", "(a_o2 − t2)·a_o2·(1 − a_o2)·a_h2" },
    };

    [Theory]
    [MemberData(nameof(ClosedForms))]
    public void BothRoutesReachTheClosedForm(string weight, string expected)
    {
        foreach (bool biases in new[] { false, true })
        {
            var graph = NetworkGraph.Build(biases);
            var d = Derivation.For(graph, weight, graph.Evaluate(NetworkGraph.Leaves(NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 }, NetworkConfig.DefaultWeights)));
            Assert.Equal(expected, d.ClosedForm.ToString());
            // Differentiating the fully expanded E_total gives the same tree, not just the same text.
            Assert.Equal(d.ClosedForm, Derivation.ByExpansion(graph, weight));
        }
    }

    [Fact]
    public void ChainForW5IsErrorThenSigmoidThenWeight()
    {
        var d = NetworkGraph.Derive(NetworkConfig.Classic, "w5");
        Assert.Equal(["E1", "E2"], d.Branches.Select(b => b.Of));
        var chain = Assert.Single(d.Branches[0].Chains);
        Assert.Equal(["E1/a_o1", "a_o1/o1", "o1/w5"], chain.Factors.Select(f => $"{f.Of}/{f.Wrt}"));
        Assert.Equal(["a_o1 − t1", "a_o1·(1 − a_o1)", "a_h1"], chain.Factors.Select(f => f.Named.ToString()));
        // σ'(o1) as the rule gives it, then through the named intermediate.
        Assert.Equal("σ(o1)·(1 − σ(o1))", chain.Factors[1].Derivative.ToString());
        // w5 does not reach E2: the reason names where w5 is used and what E2 is computed from.
        var zero = d.Branches[1];
        Assert.True(zero.IsZero);
        Assert.Equal(0, zero.Value);
        Assert.Equal(["o1"], zero.UsedBy);
        Assert.Equal(["E2", "a_o2", "o2"], zero.ComputedFrom.Select(x => x.Name));
    }

    [Fact]
    public void ChainForW1SumsBothPaths()
    {
        var d = NetworkGraph.Derive(NetworkConfig.Classic, "w1");
        Assert.All(d.Branches, b => Assert.False(b.IsZero));
        Assert.Equal(["E1/a_o1", "a_o1/o1", "o1/a_h1", "a_h1/h1", "h1/w1"], Assert.Single(d.Branches[0].Chains).Factors.Select(f => $"{f.Of}/{f.Wrt}"));
        Assert.Equal(["E2/a_o2", "a_o2/o2", "o2/a_h1", "a_h1/h1", "h1/w1"], Assert.Single(d.Branches[1].Chains).Factors.Select(f => $"{f.Of}/{f.Wrt}"));
        Assert.Equal(d.Value, d.Branches[0].Value + d.Branches[1].Value, 15);
    }

    [Fact]
    public void FactorValuesAtTheClassicExampleMatchThePublishedOnes()
    {
        // Mazur (2015), with b1 = 0.35, b2 = 0.6: ∂E/∂a_o1 = 0.74136507, ∂a_o1/∂o1 = 0.186815602, ∂o1/∂w5 = 0.593269992.
        var d = NetworkGraph.Derive(NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 }, "w5");
        var f = d.Branches[0].Chains[0].Factors;
        Assert.Equal(0.74136507, f[0].Value, 8);
        Assert.Equal(0.186815602, f[1].Value, 9);
        Assert.Equal(0.593269992, f[2].Value, 9);
        Assert.Equal(0.082167041, d.Value, 9);
    }

    [Fact]
    public void GraphEvaluatesToTheForwardPass()
    {
        Check.One(Runs(200), Prop.ForAll(ConfigArb, c =>
        {
            var v = NetworkGraph.Build(c).Evaluate(NetworkGraph.Leaves(c, c.Weights));
            var f = TwoLayerNetwork.Forward(c, c.Weights);
            double[] expected = [f.H1, f.AH1, f.H2, f.AH2, f.O1, f.AO1, f.O2, f.AO2, f.E1, f.E2, f.ETotal];
            string[] names = ["h1", "a_h1", "h2", "a_h2", "o1", "a_o1", "o2", "a_o2", "E1", "E2", "E_total"];
            return names.Zip(expected).All(p => Close(v[p.First], p.Second, 1e-14));
        }));
    }

    [Fact]
    public void SymbolicDerivativeEqualsClosedFormAndFiniteDifference()
    {
        // Derived once per graph (the symbolic work), then evaluated at many random points.
        var graphs = new[] { NetworkGraph.Build(false), NetworkGraph.Build(true) };
        var at = graphs.Select(g => g.Evaluate(NetworkGraph.Leaves(NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 }, NetworkConfig.DefaultWeights))).ToArray();
        var derivations = graphs.Select((g, i) => Weights.Names.Select(w => Derivation.For(g, w, at[i])).ToArray()).ToArray();
        // The derivative of the expanded E_total, before any naming: a function of the leaves alone.
        var expanded = graphs.Select(g => Weights.Names.Select(w => Differentiate.Simplified(g.Expand(g.Output), w)).ToArray()).ToArray();
        Check.One(Runs(300), Prop.ForAll(ConfigArb, c =>
        {
            int gi = c.HasBiases ? 1 : 0;
            var leaves = NetworkGraph.Leaves(c, c.Weights);
            var values = graphs[gi].Evaluate(leaves);
            var closed = TwoLayerNetwork.Gradients(c, c.Weights, TwoLayerNetwork.Forward(c, c.Weights));
            for (int k = 1; k <= Weights.Count; k++)
            {
                var d = derivations[gi][k - 1];
                double symbolic = d.ClosedForm.Evaluate(values);
                double fromLeaves = expanded[gi][k - 1].Evaluate(leaves);
                double chains = d.Branches.Sum(b => b.Chains.Sum(ch => ch.Factors.Aggregate(1.0, (p, f) => p * f.Named.Evaluate(values))));
                double fd = FiniteDifference(c, k);
                if (!Close(symbolic, closed[k], 1e-12) || !Close(fromLeaves, closed[k], 1e-12) || !Close(chains, closed[k], 1e-12) || !Close(symbolic, fd, 1e-7))
                    throw new Exception($"w{k}: symbolic {symbolic:R}, expanded {fromLeaves:R}, chains {chains:R}, closed form {closed[k]:R}, finite difference {fd:R} at {c}");
            }
            return true;
        }));
    }

    [Fact]
    public void DerivationValuesFollowTheConfig()
    {
        Check.One(Runs(20), Prop.ForAll(ConfigArb, c =>
        {
            var closed = TwoLayerNetwork.Gradients(c, c.Weights, TwoLayerNetwork.Forward(c, c.Weights));
            return Weights.Names.Select((w, i) => Close(NetworkGraph.Derive(c, w).Value, closed[i + 1], 1e-12)).All(ok => ok);
        }));
    }

    [Fact]
    public void TextShowsEveryStep()
    {
        string text = NetworkGraph.Derive(NetworkConfig.Classic, "w5").ToText();
        Assert.Contains("E_total = E1 + E2, so ∂E_total/∂w5 = ∂E1/∂w5 + ∂E2/∂w5", text);
        Assert.Contains("∂E1/∂w5 = ∂E1/∂a_o1 · ∂a_o1/∂o1 · ∂o1/∂w5", text);
        Assert.Contains("∂a_o1/∂o1 = ∂/∂o1 [σ(o1)] = σ(o1)·(1 − σ(o1)) = a_o1·(1 − a_o1) = ", text);
        Assert.Contains("∂E2/∂w5 = 0: w5 is used only by o1", text);
        Assert.Contains("∂E_total/∂w5 = (a_o1 − t1)·a_o1·(1 − a_o1)·a_h1 = ", text);
        string w1 = NetworkGraph.Derive(NetworkConfig.Classic, "w1").ToText();
        Assert.Contains("= (a_o1 − t1)·a_o1·(1 − a_o1)·w5·a_h1·(1 − a_h1)·i1 + (a_o2 − t2)·a_o2·(1 − a_o2)·w7·a_h1·(1 − a_h1)·i1", w1);
        Assert.DoesNotContain("= 0:", w1);
    }

    [Fact]
    public void LatexIsWellFormed()
    {
        foreach (var w in Weights.Names)
        {
            string latex = NetworkGraph.Derive(NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 }, w).ToLatex();
            Assert.StartsWith(@"\begin{aligned}", latex);
            Assert.EndsWith(@"\end{aligned}", latex);
            Assert.All(latex, ch => Assert.True(ch < 128, $"non-ASCII '{ch}' in LaTeX"));
            int depth = 0;
            foreach (char ch in latex)
            {
                depth += ch == '{' ? 1 : ch == '}' ? -1 : 0;
                Assert.True(depth >= 0);
            }
            Assert.Equal(0, depth);
            Assert.Equal(CountOf(latex, @"\left"), CountOf(latex, @"\right"));
            Assert.Contains(@"\frac{\partial E_{\text{total}}}{\partial w_{" + w[1..] + "}}", latex);
        }
    }

    private static int CountOf(string s, string part) => (s.Length - s.Replace(part, "").Length) / part.Length;
}
