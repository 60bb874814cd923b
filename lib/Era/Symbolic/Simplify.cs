namespace Era.Symbolic;

/// <summary>
/// Algebraic clean-up, just enough to turn the raw output of <see cref="Differentiate"/> into the closed forms a student
/// writes: drop zeros and ones, fold constants, flatten products, move signs into a difference ((−1)·(t − a) = a − t),
/// and pull common factors out of a sum (x·z + y·z = (x + y)·z).
/// The rules are applied bottom-up, again and again, until nothing changes.
/// </summary>
public static class Simplify
{
    public static Expr Apply(Expr e)
    {
        for (int pass = 0; pass < 100; pass++)
        {
            var next = e.Rewrite(Step);
            if (next == e) return e;
            e = next;
        }
        throw new InvalidOperationException($"simplification did not settle: {e}");
    }

    private static bool IsConst(Expr e, double value) => e is Const c && c.Value == value;

    /// <summary>One rewrite of one node whose children are already simplified.</summary>
    private static Expr Step(Expr e) => e switch
    {
        Add(Const a, Const b) => a.Value + b.Value,
        Add(var x, var y) when IsConst(x, 0) => y,
        Add(var x, var y) when IsConst(y, 0) => x,
        Add(var x, Neg(var y)) => x - y,
        Add(Neg(var x), var y) => y - x,
        Add a => FactorOut(a),

        Sub(Const a, Const b) => a.Value - b.Value,
        Sub(var x, var y) when IsConst(y, 0) => x,
        Sub(var x, var y) when IsConst(x, 0) => -y,
        Sub(var x, var y) when x == y => 0,
        Sub(var x, Neg(var y)) => x + y,

        Neg(Const c) => -c.Value,
        Neg(Neg(var x)) => x,
        Neg(Sub(var x, var y)) => y - x,   // −(t − a) = a − t

        Mul m => Product(m),

        Pow(var x, 1) => x,
        Pow(_, 0) => 1,
        Pow(Const c, var n) => Math.Pow(c.Value, n),

        _ => e,
    };

    /// <summary>
    /// A product as coefficient × factors, rebuilt left to right: constants multiplied into the coefficient,
    /// signs of negated factors too; a negative coefficient is absorbed by flipping the first difference.
    /// </summary>
    private static Expr Product(Mul m)
    {
        double coefficient = 1;
        var factors = new List<Expr>();
        void Collect(Expr f)
        {
            switch (f)
            {
                case Mul(var l, var r): Collect(l); Collect(r); break;
                case Neg(var x): coefficient = -coefficient; Collect(x); break;
                case Const c: coefficient *= c.Value; break;
                default: factors.Add(f); break;
            }
        }
        Collect(m);
        if (coefficient == 0) return 0;
        int firstDifference = factors.FindIndex(f => f is Sub);
        if (coefficient < 0 && firstDifference >= 0)
        {
            var d = (Sub)factors[firstDifference];
            factors[firstDifference] = d.Right - d.Left;
            coefficient = -coefficient;
        }
        if (factors.Count == 0) return coefficient;
        var product = Build(factors);
        return coefficient == 1 ? product : coefficient == -1 ? -product : new Const(coefficient) * product;
    }

    /// <summary>x·z + y·z → (x + y)·z for the factors both terms share (in the left term's order).</summary>
    private static Expr FactorOut(Add a)
    {
        var left = Factors(a.Left);
        var right = Factors(a.Right);
        var common = new List<Expr>();
        foreach (var f in left.Where(f => f is not Const).ToList())
        {
            if (right.Remove(f))
            {
                left.Remove(f);
                common.Add(f);
            }
        }
        if (common.Count == 0) return a;
        return (Build(left) + Build(right)) * Build(common);
    }

    private static List<Expr> Factors(Expr e) => e is Mul(var l, var r) ? [.. Factors(l), .. Factors(r)] : [e];

    /// <summary>f1·f2·…·fn as a left-nested product (1 when empty).</summary>
    private static Expr Build(IReadOnlyList<Expr> factors) =>
        factors.Count == 0 ? new Const(1) : factors.Skip(1).Aggregate(factors[0], (p, f) => p * f);
}
