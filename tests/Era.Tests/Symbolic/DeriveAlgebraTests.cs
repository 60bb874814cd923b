using Era.Symbolic;
using FsCheck;
using FsCheck.Fluent;
using static Era.Tests.Backprop.BackpropGenerators;

namespace Era.Tests.Symbolic;

/// <summary>The algebra on its own: differentiation against finite differences, simplification keeps the value, rendering.</summary>
public class DeriveAlgebraTests
{
    private static readonly Var X = new("x"), Y = new("y");

    /// <summary>Random expressions in x and y, small enough that exp and powers stay moderate on [−1, 1].</summary>
    internal static Gen<Expr> Exprs(int depth)
    {
        var leaf = Gen.OneOf(
            Gen.Elements<Expr>(X, Y, X, Y),
            Uniform(-2, 2).Select(v => (Expr)new Const(Math.Round(v, 2))));
        if (depth == 0) return leaf;
        var sub = Exprs(depth - 1);
        return Gen.Frequency(
            (2, leaf),
            (2, Gen.Zip(sub, sub, (a, b) => (Expr)new Add(a, b))),
            (2, Gen.Zip(sub, sub, (a, b) => (Expr)new Sub(a, b))),
            (3, Gen.Zip(sub, sub, (a, b) => (Expr)new Mul(a, b))),
            (1, sub.Select(a => (Expr)new Neg(a))),
            (1, Gen.Zip(sub, Gen.Elements(1.0, 2.0, 3.0), (a, n) => (Expr)new Pow(a, n))),
            (1, sub.Select(a => (Expr)new Exp(new Sigmoid(a)))),
            (2, sub.Select(a => (Expr)new Sigmoid(a))));
    }

    private static readonly Arbitrary<(Expr E, double X, double Y)> Points =
        Gen.Zip(Exprs(4), Gen.Zip(Uniform(-1, 1), Uniform(-1, 1))).Select(t => (t.Item1, t.Item2.Item1, t.Item2.Item2)).ToArbitrary();

    private static double At(Expr e, double x, double y) => e.Evaluate(new Dictionary<string, double> { ["x"] = x, ["y"] = y });

    [Fact]
    public void DerivativeMatchesACentralFiniteDifference()
    {
        Check.One(Runs(500), Prop.ForAll(Points, p =>
        {
            const double h = 1e-5;
            double fd = (At(p.E, p.X + h, p.Y) - At(p.E, p.X - h, p.Y)) / (2 * h);
            double d = At(Differentiate.By(p.E, "x"), p.X, p.Y);
            double ds = At(Differentiate.Simplified(p.E, "x"), p.X, p.Y);
            if (!Close(d, fd, 1e-5) || !Close(ds, d, 1e-12)) throw new Exception($"d/dx {p.E} at x={p.X}, y={p.Y}: {d} vs fd {fd}, simplified {ds}");
            return true;
        }));
    }

    [Fact]
    public void SimplifyKeepsTheValue()
    {
        Check.One(Runs(500), Prop.ForAll(Points, p =>
            Close(At(Simplify.Apply(p.E), p.X, p.Y), At(p.E, p.X, p.Y), 1e-12)));
    }

    [Fact]
    public void SimplifySettles()
    {
        Check.One(Runs(300), Prop.ForAll(Points, p => Simplify.Apply(Simplify.Apply(p.E)) == Simplify.Apply(p.E)));
    }

    [Fact]
    public void RulesGiveTheTextbookForms()
    {
        Assert.Equal("σ(x)·(1 − σ(x))", Differentiate.Simplified(new Sigmoid(X), "x").ToString());
        Assert.Equal("exp(x·y)·y", Differentiate.Simplified(new Exp(X * Y), "x").ToString());
        Assert.Equal("3·x²", Differentiate.Simplified(new Pow(X, 3), "x").ToString());
        Assert.Equal("x − y", Differentiate.Simplified(0.5 * new Pow(Y - X, 2), "x").ToString());
        Assert.Equal("y", Differentiate.Simplified(X * Y + new Sigmoid(Y), "x").ToString());
        Assert.Equal("0", Differentiate.Simplified(new Sigmoid(Y), "x").ToString());
    }

    [Fact]
    public void SimplifyPullsCommonFactorsOutOfASum()
    {
        var a = new Var("a");
        var b = new Var("b");
        Assert.Equal((X + Y) * a * b, Simplify.Apply(X * a * b + Y * a * b));
        Assert.Equal("(x + y)·a", Simplify.Apply(X * a + Y * a).ToString());
        Assert.Equal("y − x", Simplify.Apply(-(X - Y)).ToString());
        Assert.Equal("x", Simplify.Apply(1 * X + 0 * Y - 0).ToString());
    }

    [Fact]
    public void TextAndLatexUseOnlyTheNeededParentheses()
    {
        var e = (X - Y) * X * (1 - X) + new Pow(X + Y, 2) - (X - Y);
        Assert.Equal("(x − y)·x·(1 − x) + (x + y)² − (x − y)", Render.Text(e));
        Assert.Equal(@"\left(x - y\right) \cdot x \cdot \left(1 - x\right) + \left(x + y\right)^{2} - \left(x - y\right)", Render.Latex(e));
        Assert.Equal(@"\tfrac{1}{2} \cdot \sigma\left(x\right)", Render.Latex(0.5 * new Sigmoid(X)));
        Assert.Equal(@"\left(e^{x}\right)^{2}", Render.Latex(new Pow(new Exp(X), 2)));   // never the invalid e^{x}^{2}
        Assert.Equal("−(−0)", Render.Text(-new Const(-0.0)));                               // -0 is negative too
    }

    [Theory]
    [InlineData("w5", "w_{5}")]
    [InlineData("a_o1", "a_{o1}")]
    [InlineData("E_total", @"E_{\text{total}}")]
    [InlineData("E1", "E_{1}")]
    [InlineData("x", "x")]
    public void LatexNamesUseSubscripts(string name, string latex) => Assert.Equal(latex, Render.Name(name, latex: true));

    [Fact]
    public void EvaluateNamesAMissingVariable()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => (X + Y).Evaluate(new Dictionary<string, double> { ["x"] = 1 }));
        Assert.Contains("'y'", e.Message);
    }
}
