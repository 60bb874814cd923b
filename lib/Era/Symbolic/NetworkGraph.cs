using Era.Backprop;

namespace Era.Symbolic;

/// <summary>The 2-2-2 network of <see cref="TwoLayerNetwork"/> written as a <see cref="ComputationGraph"/>.</summary>
public static class NetworkGraph
{
    /// <summary>
    /// h1 = w1·i1 + w2·i2 [+ b1], a_h1 = σ(h1), h2, a_h2 likewise; o1 = w5·a_h1 + w6·a_h2 [+ b2], a_o1 = σ(o1),
    /// o2, a_o2 likewise; E1 = ½·(t1 − a_o1)², E2 = ½·(t2 − a_o2)², E_total = E1 + E2.
    /// The biases appear only when <paramref name="withBiases"/>, as in the table.
    /// </summary>
    public static ComputationGraph Build(bool withBiases)
    {
        static Expr V(string name) => new Var(name);
        Expr Neuron(string wa, string a, string wb, string b, string bias) =>
            withBiases ? V(wa) * V(a) + V(wb) * V(b) + V(bias) : V(wa) * V(a) + V(wb) * V(b);
        return new ComputationGraph(
        [
            new("h1", Neuron("w1", "i1", "w2", "i2", "b1")),
            new("a_h1", new Sigmoid(V("h1"))),
            new("h2", Neuron("w3", "i1", "w4", "i2", "b1")),
            new("a_h2", new Sigmoid(V("h2"))),
            new("o1", Neuron("w5", "a_h1", "w6", "a_h2", "b2")),
            new("a_o1", new Sigmoid(V("o1"))),
            new("o2", Neuron("w7", "a_h1", "w8", "a_h2", "b2")),
            new("a_o2", new Sigmoid(V("o2"))),
            new("E1", 0.5 * new Pow(V("t1") - V("a_o1"), 2)),
            new("E2", 0.5 * new Pow(V("t2") - V("a_o2"), 2)),
            new("E_total", V("E1") + V("E2")),
        ]);
    }

    public static ComputationGraph Build(NetworkConfig config) => Build(config.HasBiases);

    /// <summary>The leaves' values: inputs, targets, the given weights and (when present) the biases.</summary>
    public static Dictionary<string, double> Leaves(NetworkConfig config, Weights weights)
    {
        var values = new Dictionary<string, double>
        {
            ["i1"] = config.I1,
            ["i2"] = config.I2,
            ["t1"] = config.T1,
            ["t2"] = config.T2,
        };
        if (config.HasBiases)
        {
            values["b1"] = config.B1;
            values["b2"] = config.B2;
        }
        for (int k = 1; k <= Weights.Count; k++) values[$"w{k}"] = weights[k];
        return values;
    }

    /// <summary>The derivation of ∂E_total/∂w for one weight ("w1".."w8"), valued at the config's initial weights.</summary>
    public static Derivation Derive(NetworkConfig config, string weight)
    {
        if (!Weights.Names.Contains(weight))
            throw new ArgumentException($"unknown weight '{weight}' (expected one of: {string.Join(", ", Weights.Names)})", nameof(weight));
        var graph = Build(config);
        return Derivation.For(graph, weight, graph.Evaluate(Leaves(config, config.Weights)));
    }
}
