using Era.Figures;
using Era.Symbolic;
using FsCheck.Fluent;

namespace Era.Tests.Symbolic;

/// <summary>
/// <see cref="Render.JavaScript"/> run by a real JavaScript engine (Chromium's V8): random expression trees give the
/// doubles <see cref="Expr.Evaluate"/> gives, so the grouping the tree means is the grouping JavaScript reads.
/// </summary>
[Collection("Chromium")]
public class RenderJavaScriptTests
{
    [Fact]
    public void GroupingIsTheTreesNotTheUsualReading()
    {
        Var a = new("a"), b = new("b"), c = new("c");
        Assert.Equal("a * (b * c)", Render.JavaScript(a * (b * c)));      // not (a·b)·c: the last bit can differ
        Assert.Equal("a * b * c", Render.JavaScript(a * b * c));
        Assert.Equal("a - (b - c)", Render.JavaScript(a - (b - c)));
        Assert.Equal("a - -b", Render.JavaScript(a - -b));
        Assert.Equal("-(-a)", Render.JavaScript(-(-a)));
        Assert.Equal("-(a * b)", Render.JavaScript(-(a * b)));
        Assert.Equal("-(-0)", Render.JavaScript(-new Const(-0.0)));           // Math.Round(-0.001, 2) is -0: not --0
        Assert.Equal("1 / (1 + Math.exp(-(-0)))", Render.JavaScript(new Sigmoid(new Const(-0.0))));
        Assert.Equal("a * (1 / (1 + Math.exp(-b)))", Render.JavaScript(a * new Sigmoid(b)));
        Assert.Equal("0.5 * Math.pow(a - -0.25, 2)", Render.JavaScript(0.5 * new Pow(a - new Const(-0.25), 2)));
        Assert.Throws<ArgumentException>(() => Render.JavaScript(new Var("∂E")));
    }

    [Fact]
    public async Task RandomExpressionsEvaluateAlikeInChromium()
    {
        var cases = DeriveAlgebraTests.Exprs(4).Sample(200, 10)
            .Select((e, n) => (E: e, X: -1 + 2 * ((n * 0.37) % 1), Y: -1 + 2 * ((n * 0.61) % 1))).ToList();
        using var chromium = ChromiumRenderer.Start(new ChromiumOptions { StartTimeout = TimeSpan.FromSeconds(60) });
        await using var page = await chromium.Browser.NewPageAsync();
        double[] js = await page.EvaluateFunctionAsync<double[]>(
            "(cases) => cases.map(c => { const v = new Function('x', 'y', 'return ' + c[0])(c[1], c[2]); return Number.isFinite(v) ? v : 1e308; })",
            (object)cases.Select(c => new object[] { Render.JavaScript(c.E), c.X, c.Y }).ToArray());   // one argument, not params
        Assert.Equal(cases.Count, js.Length);
        for (int n = 0; n < cases.Count; n++)
        {
            double want = cases[n].E.Evaluate(new Dictionary<string, double> { ["x"] = cases[n].X, ["y"] = cases[n].Y });
            if (!double.IsFinite(want)) want = 1e308;
            double scale = Math.Max(1, Math.Abs(want));
            Assert.True(Math.Abs(js[n] - want) <= 1e-12 * scale, $"{Render.JavaScript(cases[n].E)} at x={cases[n].X}, y={cases[n].Y}: JavaScript {js[n]}, era {want}");
        }
    }
}
