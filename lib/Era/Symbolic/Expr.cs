namespace Era.Symbolic;

/// <summary>
/// An immutable expression tree over named variables and constants. Records give structural equality for free:
/// two trees are equal when they have the same shape and the same leaves, which is all simplification needs.
/// Build expressions with the operators: <c>new Var("w5") * new Var("a_h1") + 0.5</c>.
/// </summary>
public abstract record Expr
{
    public static implicit operator Expr(double value) => new Const(value);
    public static Expr operator +(Expr a, Expr b) => new Add(a, b);
    public static Expr operator -(Expr a, Expr b) => new Sub(a, b);
    public static Expr operator *(Expr a, Expr b) => new Mul(a, b);
    public static Expr operator -(Expr a) => new Neg(a);

    /// <summary>The value of the expression, given a value for every variable in it.</summary>
    public double Evaluate(IReadOnlyDictionary<string, double> values) => this switch
    {
        Const c => c.Value,
        Var v => values.TryGetValue(v.Name, out double x) ? x : throw new KeyNotFoundException($"no value for variable '{v.Name}'"),
        Add a => a.Left.Evaluate(values) + a.Right.Evaluate(values),
        Sub s => s.Left.Evaluate(values) - s.Right.Evaluate(values),
        Mul m => m.Left.Evaluate(values) * m.Right.Evaluate(values),
        Neg n => -n.Operand.Evaluate(values),
        Pow p => Math.Pow(p.Base.Evaluate(values), p.Exponent),
        Exp e => Math.Exp(e.Operand.Evaluate(values)),
        Sigmoid s => 1.0 / (1.0 + Math.Exp(-s.Operand.Evaluate(values))),
        _ => throw new NotSupportedException(GetType().Name),
    };

    /// <summary>The names of the variables the expression uses.</summary>
    public IEnumerable<string> Variables() => this switch
    {
        Var v => [v.Name],
        Const => [],
        _ => Children().SelectMany(c => c.Variables()).Distinct(),
    };

    public IReadOnlyList<Expr> Children() => this switch
    {
        Add a => [a.Left, a.Right],
        Sub s => [s.Left, s.Right],
        Mul m => [m.Left, m.Right],
        Neg n => [n.Operand],
        Pow p => [p.Base],
        Exp e => [e.Operand],
        Sigmoid s => [s.Operand],
        _ => [],
    };

    /// <summary>The same node with new children (same order as <see cref="Children"/>).</summary>
    public Expr WithChildren(IReadOnlyList<Expr> c) => this switch
    {
        Add => new Add(c[0], c[1]),
        Sub => new Sub(c[0], c[1]),
        Mul => new Mul(c[0], c[1]),
        Neg => new Neg(c[0]),
        Pow p => new Pow(c[0], p.Exponent),
        Exp => new Exp(c[0]),
        Sigmoid => new Sigmoid(c[0]),
        _ => this,
    };

    /// <summary>Rewrites the tree bottom-up: children first, then <paramref name="rewrite"/> on the rebuilt node.</summary>
    public Expr Rewrite(Func<Expr, Expr> rewrite)
    {
        var children = Children();
        var node = children.Count == 0 ? this : WithChildren(children.Select(c => c.Rewrite(rewrite)).ToList());
        return rewrite(node);
    }

    /// <summary>Replaces each named variable by its expression (one pass; names inside the replacements stay).</summary>
    public Expr Substitute(IReadOnlyDictionary<string, Expr> bindings) =>
        Rewrite(e => e is Var v && bindings.TryGetValue(v.Name, out var b) ? b : e);

    /// <summary>Plain-text (Unicode) form, e.g. (a_o1 − t1)·a_o1·(1 − a_o1)·a_h1.</summary>
    public sealed override string ToString() => Render.Text(this);
}

public sealed record Const(double Value) : Expr;

public sealed record Var(string Name) : Expr;

public sealed record Add(Expr Left, Expr Right) : Expr;

public sealed record Sub(Expr Left, Expr Right) : Expr;

public sealed record Mul(Expr Left, Expr Right) : Expr;

public sealed record Neg(Expr Operand) : Expr;

/// <summary>Base raised to a constant exponent (all the network needs: the square in the error).</summary>
public sealed record Pow(Expr Base, double Exponent) : Expr;

public sealed record Exp(Expr Operand) : Expr;

/// <summary>σ(x) = 1 / (1 + e^−x), kept as one node so its derivative can be written as σ(x)(1 − σ(x)).</summary>
public sealed record Sigmoid(Expr Operand) : Expr;
