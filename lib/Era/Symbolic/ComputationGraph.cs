namespace Era.Symbolic;

/// <summary>One named intermediate: <c>o1 = w5·a_h1 + w6·a_h2</c>.</summary>
public sealed record Definition(string Name, Expr Body);

/// <summary>
/// A computation as a list of named definitions, each using inputs (leaves) or earlier names; the last one is the
/// output. This is the graph the chain rule walks: an edge y → x whenever x appears in y's definition.
/// </summary>
public sealed class ComputationGraph
{
    private readonly Dictionary<string, Expr> _bodies = [];
    private readonly Dictionary<Expr, string> _names = [];

    public ComputationGraph(IEnumerable<Definition> definitions)
    {
        var list = new List<Definition>();
        foreach (var d in definitions)
        {
            var body = Simplify.Apply(d.Body);
            foreach (var v in body.Variables())
                if (v == d.Name) throw new ArgumentException($"{d.Name} is defined in terms of itself");
            if (!_bodies.TryAdd(d.Name, body)) throw new ArgumentException($"{d.Name} is defined twice");
            _names.TryAdd(body, d.Name);
            list.Add(d with { Body = body });
        }
        if (list.Count == 0) throw new ArgumentException("a computation needs at least one definition");
        Definitions = list;
    }

    public IReadOnlyList<Definition> Definitions { get; }

    /// <summary>The last definition: what the computation produces (E_total for the network).</summary>
    public string Output => Definitions[^1].Name;

    public bool IsIntermediate(string name) => _bodies.ContainsKey(name);

    public Expr Body(string name) => _bodies[name];

    /// <summary>The names a definition uses directly, in order of first use.</summary>
    public IReadOnlyList<string> Inputs(string name) => _bodies.TryGetValue(name, out var b) ? b.Variables().ToList() : [];

    /// <summary>Whether <paramref name="x"/> reaches <paramref name="y"/> through some chain of definitions.</summary>
    public bool DependsOn(string y, string x) => Inputs(y).Any(u => u == x || DependsOn(u, x));

    /// <summary>The definitions that use <paramref name="x"/> directly.</summary>
    public IReadOnlyList<string> UsersOf(string x) =>
        Definitions.Where(d => d.Body.Variables().Contains(x)).Select(d => d.Name).ToList();

    /// <summary>Every path y → … → x along which a change in x reaches y (each path is a list of names, y first).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Paths(string y, string x)
    {
        if (y == x) return [[x]];
        return Inputs(y).SelectMany(u => Paths(u, x)).Select(p => (IReadOnlyList<string>)[y, .. p]).ToList();
    }

    /// <summary>The definition of <paramref name="name"/> with every intermediate replaced by its own definition: leaves only.</summary>
    public Expr Expand(string name) =>
        _bodies[name].Rewrite(e => e is Var v && IsIntermediate(v.Name) ? Expand(v.Name) : e);

    /// <summary>
    /// The reverse of <see cref="Expand"/>: every subexpression that is some definition's body becomes that name,
    /// innermost first, so σ(w1·i1 + w2·i2) reads h1 and then a_h1.
    /// </summary>
    public Expr NameIntermediates(Expr e) => e.Rewrite(n => _names.TryGetValue(n, out var name) ? new Var(name) : n);

    /// <summary>
    /// ∂y/∂x for an edge of the graph, with the other names held fixed: the derivative of y's definition,
    /// simplified and written through the named intermediates (σ'(o1) = σ(o1)·(1 − σ(o1)) = a_o1·(1 − a_o1)).
    /// </summary>
    public Expr LocalDerivative(string y, string x) =>
        Simplify.Apply(NameIntermediates(Differentiate.Simplified(_bodies[y], x)));

    /// <summary>Every intermediate's value, computed in order from the leaves' values; leaves included.</summary>
    public Dictionary<string, double> Evaluate(IReadOnlyDictionary<string, double> leaves)
    {
        var values = new Dictionary<string, double>(leaves);
        foreach (var d in Definitions) values[d.Name] = d.Body.Evaluate(values);
        return values;
    }
}
