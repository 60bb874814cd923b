namespace Era.Symbolic;

/// <summary>Symbolic differentiation by the chain rule: one rule per node type, exactly as on paper.</summary>
public static class Differentiate
{
    /// <summary>∂e/∂x, unsimplified (pass the result through <see cref="Simplify.Apply"/> to read it).</summary>
    public static Expr By(Expr e, string x) => e switch
    {
        Const => 0,
        Var v => v.Name == x ? 1 : 0,
        Add a => By(a.Left, x) + By(a.Right, x),
        Sub s => By(s.Left, x) - By(s.Right, x),
        Neg n => -By(n.Operand, x),
        // Product rule: (uv)' = u'v + uv'.
        Mul m => By(m.Left, x) * m.Right + m.Left * By(m.Right, x),
        // Power rule with the chain rule: (uⁿ)' = n·uⁿ⁻¹·u'.
        Pow p => new Const(p.Exponent) * new Pow(p.Base, p.Exponent - 1) * By(p.Base, x),
        // (eᵘ)' = eᵘ·u'.
        Exp ex => ex * By(ex.Operand, x),
        // σ'(u) = σ(u)·(1 − σ(u)), times u' by the chain rule.
        Sigmoid s => s * (1 - s) * By(s.Operand, x),
        _ => throw new NotSupportedException(e.GetType().Name),
    };

    /// <summary>∂e/∂x, simplified.</summary>
    public static Expr Simplified(Expr e, string x) => Simplify.Apply(By(e, x));
}
