using System.Globalization;
using System.Text;

namespace Era.Symbolic;

/// <summary>
/// One link of a chain, ∂y/∂x for an edge y → x of the graph: y's definition, its derivative as the rules give it,
/// the same written through the named intermediates, and its value.
/// </summary>
public sealed record Factor(string Of, string Wrt, Expr Definition, Expr Derivative, Expr Named, double Value);

/// <summary>One path from an error term to the weight: the product of its factors.</summary>
public sealed record Chain(IReadOnlyList<Factor> Factors, Expr Product, double Value);

/// <summary>
/// ∂E/∂w for one term E of the output (E1 or E2): the sum over its chains, or zero when the weight does not reach E,
/// with the reason: the definitions E is computed from, none of which uses <see cref="UsedBy"/>.
/// </summary>
public sealed record Branch(string Of, Expr OutputFactor, IReadOnlyList<Chain> Chains, Expr Total, double Value,
    IReadOnlyList<string> UsedBy, IReadOnlyList<Definition> ComputedFrom)
{
    public bool IsZero => Chains.Count == 0;
}

/// <summary>
/// ∂E_total/∂w derived as a student writes it: split E_total into its terms, follow every path from each term
/// down to w multiplying the local derivatives (the chain rule), add the paths, simplify to the closed form.
/// Everything here is computed from the <see cref="ComputationGraph"/>; nothing is typed in per weight.
/// </summary>
public sealed class Derivation
{
    public required string Output { get; init; }
    public required string Weight { get; init; }
    public required Definition OutputDefinition { get; init; }
    public required IReadOnlyList<Branch> Branches { get; init; }

    /// <summary>The closed form: the branches added and simplified, through the named intermediates.</summary>
    public required Expr ClosedForm { get; init; }
    public required double Value { get; init; }

    public static Derivation For(ComputationGraph graph, string weight, IReadOnlyDictionary<string, double> values)
    {
        string output = graph.Output;
        var branches = new List<Branch>();
        foreach (var term in graph.Inputs(output))
        {
            var outputFactor = graph.LocalDerivative(output, term);
            var chains = graph.Paths(term, weight).Select(path =>
            {
                var factors = path.Zip(path.Skip(1), (y, x) =>
                {
                    var raw = Differentiate.Simplified(graph.Body(y), x);
                    var named = graph.LocalDerivative(y, x);
                    return new Factor(y, x, graph.Body(y), raw, named, named.Evaluate(values));
                }).ToList();
                // A term that is the weight itself has an empty chain: ∂w/∂w = 1.
                var product = Simplify.Apply(factors.Select(f => f.Named).Aggregate((Expr)new Const(1), (p, f) => p * f));
                return new Chain(factors, product, product.Evaluate(values));
            }).ToList();
            var total = chains.Count == 0 ? new Const(0) : Simplify.Apply(chains.Select(c => c.Product).Aggregate((s, p) => s + p));
            var usedBy = graph.UsersOf(weight);
            // Why the weight does not reach this term: what the term is computed from, leaving out what the
            // weight's users are computed from too (a_h1 feeds o1 and o2 alike, and says nothing).
            var computedFrom = chains.Count > 0 ? [] : graph.Definitions
                .Where(d => (d.Name == term || graph.DependsOn(term, d.Name)) && !usedBy.Any(u => u == d.Name || graph.DependsOn(u, d.Name)))
                .Reverse().ToList();
            branches.Add(new Branch(term, outputFactor, chains, total, total.Evaluate(values), usedBy, computedFrom));
        }
        var closed = Simplify.Apply(branches.Select(b => b.OutputFactor * b.Total).Aggregate((s, t) => s + t));
        return new Derivation
        {
            Output = output,
            Weight = weight,
            OutputDefinition = new Definition(output, graph.Body(output)),
            Branches = branches,
            ClosedForm = closed,
            Value = closed.Evaluate(values),
        };
    }

    /// <summary>
    /// The same derivative the other way round, as an independent check: expand the output into the leaves,
    /// differentiate the whole tree at once, simplify, then name the intermediates.
    /// </summary>
    public static Expr ByExpansion(ComputationGraph graph, string weight) =>
        Simplify.Apply(graph.NameIntermediates(Differentiate.Simplified(graph.Expand(graph.Output), weight)));

    public string ToText() => Write(latex: false);

    /// <summary>A KaTeX/MathJax <c>aligned</c> block (without the surrounding $$).</summary>
    public string ToLatex() => Write(latex: true);

    private string Write(bool latex)
    {
        string E(Expr e) => latex ? Render.Latex(e) : Render.Text(e);
        string N(string name) => Render.Name(name, latex);
        string D(string y, string x) => Render.Partial(y, x, latex);
        // Values to ten significant digits: enough to compare with the table, short enough to read.
        string Num(double v) => Render.Number(double.Parse(v.ToString("G10", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture), latex);
        string Words(string s) => latex ? $@"\text{{{s}}}" : s;
        string dot = latex ? @" \cdot " : " · ";
        string OutputTerm(Branch b) => b.OutputFactor == new Const(1) ? D(b.Of, Weight) : $"{E(b.OutputFactor)}{(latex ? @" \cdot " : "·")}{D(b.Of, Weight)}";

        var lines = new List<(int Indent, string Line)>();
        var top = D(Output, Weight);
        lines.Add((0, $"{N(Output)} = {E(OutputDefinition.Body)}{Words(", so ")}{top} = {string.Join(" + ", Branches.Select(OutputTerm))}"));
        foreach (var b in Branches)
        {
            if (b.IsZero && b.ComputedFrom.Count == 0)
            {
                lines.Add((0, $"{D(b.Of, Weight)} = 0{(latex ? @"\quad" : ":")} {N(b.Of)}{Words(" does not depend on ")}{N(Weight)}"));
                continue;
            }
            if (b.IsZero)
            {
                string users = string.Join(", ", b.UsedBy.Select(N));
                string from = string.Join(latex ? @",\; " : ", ", b.ComputedFrom.Select(d => $"{N(d.Name)} = {E(d.Body)}"));
                lines.Add((0, $"{D(b.Of, Weight)} = 0{(latex ? @"\quad" : ":")} {N(Weight)}{Words(" is used only by ")}{users}" +
                    $"{Words(", and ")}{from}{Words(" never use ")}{users}"));
                continue;
            }
            foreach (var chain in b.Chains.Where(c => c.Factors.Count > 0))
            {
                lines.Add((0, $"{D(b.Of, Weight)} = {string.Join(dot, chain.Factors.Select(f => D(f.Of, f.Wrt)))}"));
                foreach (var f in chain.Factors)
                {
                    var steps = new List<string>
                    {
                        latex ? $@"\frac{{\partial}}{{\partial {N(f.Wrt)}}}\left[{E(f.Definition)}\right]" : $"∂/∂{f.Wrt} [{E(f.Definition)}]",
                    };
                    if (f.Derivative != f.Named) steps.Add(E(f.Derivative));
                    steps.Add(E(f.Named));
                    steps.Add(Num(f.Value));
                    lines.Add((1, $"{D(f.Of, f.Wrt)} = {string.Join(" = ", steps)}"));
                }
                if (b.Chains.Count > 1) lines.Add((1, $"{Words("this path: ")}{E(chain.Product)} = {Num(chain.Value)}"));
            }
            lines.Add((0, $"{D(b.Of, Weight)} = {E(b.Total)} = {Num(b.Value)}"));
        }
        // The sum over the paths, then the common factors pulled out, then the value: one "= …" per line.
        var nonZero = Branches.Where(b => !b.IsZero).ToList();
        var rhs = new List<string>();
        if (nonZero.Count > 1)
        {
            rhs.Add(string.Join(" + ", nonZero.Select(OutputTerm)));
            rhs.Add(E(nonZero.Select(b => b.OutputFactor == new Const(1) ? b.Total : b.OutputFactor * b.Total).Aggregate((s, t) => new Add(s, t))));
        }
        rhs.Add(E(ClosedForm));
        rhs.Add(Num(Value));
        if (rhs.Count == 2) rhs = [$"{rhs[0]} = {rhs[1]}"];
        lines.Add((0, $"{top} = {rhs[0]}"));
        foreach (var r in rhs.Skip(1))
            lines.Add((latex ? 1 : 0, latex ? $"= {r}" : new string(' ', top.Length + 1) + $"= {r}"));

        var sb = new StringBuilder();
        if (latex)
        {
            sb.Append(@"\begin{aligned}").Append('\n');
            for (int i = 0; i < lines.Count; i++)
                sb.Append(lines[i].Indent > 0 ? @"& \qquad " : "& ").Append(lines[i].Line).Append(i < lines.Count - 1 ? @" \\" : "").Append('\n');
            sb.Append(@"\end{aligned}");
        }
        else
        {
            foreach (var (indent, line) in lines) sb.Append(new string(' ', 2 * indent)).Append(line).Append('\n');
        }
        return sb.ToString().TrimEnd('\n');
    }
}
