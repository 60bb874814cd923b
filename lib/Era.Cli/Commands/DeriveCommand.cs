using System.CommandLine;
using System.Globalization;
using Era.Backprop;
using Era.Symbolic;

namespace Era.Cli.Commands;

/// <summary>`./era derive`: the chain-rule derivation of ∂E_total/∂w, computed by the symbolic algebra.</summary>
internal static class DeriveCommand
{
    public static readonly string[] Formats = ["text", "latex", "js"];

    public static Command Create()
    {
        var command = new Command("derive", "The chain-rule derivation of ∂E_total/∂w for one weight or all eight: the chain of " +
            "factors, each factor's symbolic form and value, the sum over the paths, and the closed form.");
        var weight = TypedOptions.Choice("--weight", "the weight to derive", ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "all"], "all");
        var format = TypedOptions.Choice("--format", "text (terminal), latex (KaTeX/MathJax, for notebooks and pages) or js (the whole network as the "
            + $"handouts' playground runs it: forward pass and all eight gradients, no values; {NetworkScript.RepositoryPath})", Formats, "text");
        var network = new NetworkOptions();
        command.Options.Add(weight);
        command.Options.Add(format);
        // The values follow the network; there is no run, so no --lr or --iterations.
        command.Options.Add(network.Preset);
        command.Options.Add(network.Inputs);
        command.Options.Add(network.Targets);
        command.Options.Add(network.Weights);
        command.Options.Add(network.Biases);
        Cli.SetHandler(command, parse =>
        {
            string fmt = parse.GetValue(format) ?? "text";
            string w = parse.GetValue(weight) ?? "all";
            var config = network.Config(parse);
            var names = w == "all" ? Backprop.Weights.Names : [w];
            var output = parse.InvocationConfiguration.Output;
            if (fmt == "js")
            {
                if (w != "all") throw new UsageException("--weight", "--format js writes the whole network: all eight gradients (leave --weight out)");
                output.Write(NetworkScript.Generate());
                return Cli.ExitOk;
            }
            output.Write(fmt == "latex" ? Latex(config, names) : Text(config, names));
            return Cli.ExitOk;
        });
        return command;
    }

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static IEnumerable<(string Name, double Value)> Leaves(NetworkConfig c) =>
        NetworkGraph.Leaves(c, c.Weights).Select(kv => (kv.Key, kv.Value));

    public static string Text(NetworkConfig config, IEnumerable<string> weights)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("values at ").Append(string.Join(", ", Leaves(config).Select(l => $"{l.Name} = {Num(l.Value)}"))).Append("\n\n");
        foreach (var w in weights)
            sb.Append(NetworkGraph.Derive(config, w).ToText()).Append("\n\n");
        return sb.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>Markdown-ready LaTeX: one $$ … $$ display block per weight, the values they are taken at first.</summary>
    public static string Latex(NetworkConfig config, IEnumerable<string> weights)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("$$\n\\text{values at } ")
          .Append(string.Join(",\\; ", Leaves(config).Select(l => $"{Render.Name(l.Name, true)} = {Render.Number(l.Value, true)}")))
          .Append("\n$$\n\n");
        foreach (var w in weights)
            sb.Append("$$\n").Append(NetworkGraph.Derive(config, w).ToLatex()).Append("\n$$\n\n");
        return sb.ToString().TrimEnd('\n') + "\n";
    }
}
