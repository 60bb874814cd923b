using System.Globalization;
using Era.Backprop;
using Era.Handouts;
using Era.Symbolic;
using Era.Tests.Cli;
using Era.Tests.Notebooks;
using PuppeteerSharp;

namespace Era.Tests.Handouts;

/// <summary>
/// The handouts' playground page as a student uses it, in Chromium: every number it shows at iteration k, read from
/// its data-playground elements, against `./era backprop --format csv` to 1e-12 relative, for several shared links;
/// bad values in the link or a field are one line of error and the last good state stays. And the page's arithmetic
/// is the program's derivation: the committed network.js is what <see cref="NetworkScript"/> generates now.
/// </summary>
[Collection("Chromium")]
public class PlaygroundTests(CourseHandoutsFixture handouts) : IClassFixture<CourseHandoutsFixture>
{
    private string PagePath => Path.Combine(handouts.Out, Playground.PageName);

    private static string Committed => File.ReadAllText(Path.Combine(Repo.Root, NetworkScript.RepositoryPath));

    [Fact]
    public void TheCommittedNetworkScriptIsWhatTheDerivationGivesNow()
    {
        Assert.True(NetworkScript.Generate() == Committed,
            $"{NetworkScript.RepositoryPath} is not what lib/Era/Symbolic derives now: regenerate it with `{NetworkScript.RegenerateCommand}`");
        // And the page runs that script, not another copy.
        Assert.Contains(HandoutPage.ScriptSafe(Committed), File.ReadAllText(PagePath));
    }

    [Fact]
    public void AChangedDerivativeNoLongerMatchesTheCommittedScript()
    {
        // The check above can fail: drop the ½ of E1 = ½·(t1 − a_o1)² and ∂E/∂w5 (and w1…w4, w6) change.
        var graph = NetworkGraph.Build(withBiases: false);
        var changed = new ComputationGraph(graph.Definitions.Select(d => d.Name == "E1" ? d with { Body = new Pow(new Var("t1") - new Var("a_o1"), 2) } : d));
        string script = NetworkScript.Generate(changed);
        Assert.NotEqual(Committed, script);
        Assert.StartsWith("    var dE_dw5 = 2 * ((a_o1 - t1) * a_o1", script.Split('\n').Single(l => l.Contains("var dE_dw5", StringComparison.Ordinal)));
        Assert.Contains("var dE_dw5 = (a_o1 - t1) * a_o1 * (1 - a_o1) * a_h1;", Committed);
    }

    public static TheoryData<string, string[]> Links => new()
    {
        // the page's query, and the same run as `./era backprop` options
        { "?preset=classic&lr=0.5&k=181", ["--preset", "classic", "--lr", "0.5", "--iterations", "181"] },
        { "?preset=era&lr=2&k=37", ["--preset", "era", "--lr", "2", "--iterations", "37"] },
        { "?preset=classic&lr=0.8&k=1&w=0.1,-0.2,0.3,0.4,-0.5,0.6,0.7,0.8&i=1,0.5&t=0.2,0.9",
            ["--preset", "classic", "--lr", "0.8", "--iterations", "1", "--weights", "0.1,-0.2,0.3,0.4,-0.5,0.6,0.7,0.8", "--inputs", "1,0.5", "--targets", "0.2,0.9"] },
        { "?k=1000&lr=1", ["--lr", "1", "--iterations", "1000"] },
        { "?preset=era&lr=0.1&k=2500&t=0.05,0.95", ["--preset", "era", "--lr", "0.1", "--iterations", "2500", "--targets", "0.05,0.95"] },
    };

    [Theory]
    [MemberData(nameof(Links))]
    public async Task EveryNumberShownIsTheProgramsRow(string query, string[] backprop)
    {
        var page = await OpenAsync(query);
        await using var _ = page.Page;
        Assert.False(await ErrorShownAsync(page.Page), await ErrorAsync(page.Page));
        var row = ExpectedRow(backprop);
        AssertRowIs(row, await ShownAsync(page.Page), query);

        // The curves: one per course η (and the link's own, if it is not one of them) over max(181, k) iterations,
        // then the point at k, on the link's curve.
        int k = (int)row["k"];
        double lr = double.Parse(backprop[Array.IndexOf(backprop, "--lr") + 1], CultureInfo.InvariantCulture);
        var traces = await page.Page.EvaluateExpressionAsync<TraceData[]>(
            "Array.from(document.getElementById('playground-curves').data, t => ({ name: t.name, x: Array.from(t.x), y: Array.from(t.y) }))");
        var rates = LearningRateSweep.DefaultRates.Contains(lr) ? LearningRateSweep.DefaultRates : [.. LearningRateSweep.DefaultRates, lr];
        Assert.Equal([.. rates.Select(r => "η = " + r.ToString("R", CultureInfo.InvariantCulture)), $"k = {k}"], traces.Select(t => t.Name));
        Assert.All(traces[..^1], t => Assert.Equal(Math.Max(IterationTable.DefaultIterations, k), t.Y.Length));
        Assert.Equal(traces[rates.ToList().IndexOf(lr)].Y[k - 1], traces[^1].Y[0]);
        Assert.True(Math.Abs(traces[^1].Y[0] - row["E_tot"]) <= 1e-12 * row["E_tot"]);
        Assert.Equal(1.0 * k, traces[^1].X[0]);
        Assert.Empty(page.Errors);
    }

    public sealed record TraceData(string Name, double[] X, double[] Y);

    [Fact]
    public async Task BadValuesInTheLinkAreOneLineAndTheDefaultsStay()
    {
        var classic = ExpectedRow(["--preset", "classic", "--iterations", "181"]);
        foreach (var (query, says) in new[]
        {
            ("?preset=classic&lr=abc&k=10", "is not a number"),
            ("?k=-3", "k = -3: the iteration must be a whole number from 1 to 10000"),
            ("?k=99999999999", "from 1 to 10000"),
            ("?lr=0", "must be greater than 0"),
            ("?w=1,2,3", "needs 8 numbers"),
            ("?preset=nope", "expected one of classic, era"),
        })
        {
            var page = await OpenAsync(query);
            await using var _ = page.Page;
            Assert.True(await ErrorShownAsync(page.Page), $"{query}: no error shown");
            string error = await ErrorAsync(page.Page);
            Assert.Contains(says, error);
            Assert.DoesNotContain("\n", error);
            AssertRowIs(classic, await ShownAsync(page.Page), query);
            Assert.Empty(page.Errors);
        }
    }

    [Fact]
    public async Task AFieldChangedRedrawsUpdatesTheLinkAndABadOneKeepsTheLastGoodState()
    {
        var page = await OpenAsync("?preset=era&lr=0.5&k=50");
        await using var _ = page.Page;
        var set = "(name, value) => { const f = document.getElementById('playground').elements[name]; f.value = value; f.dispatchEvent(new Event('change', { bubbles: true })); }";

        await page.Page.EvaluateFunctionAsync(set, "lr", "0.8");
        Assert.False(await ErrorShownAsync(page.Page), await ErrorAsync(page.Page));
        var good = ExpectedRow(["--preset", "era", "--lr", "0.8", "--iterations", "50"]);
        AssertRowIs(good, await ShownAsync(page.Page), "lr 0.8 typed in");
        Assert.Equal("?preset=era&lr=0.8&k=50", await page.Page.EvaluateExpressionAsync<string>("location.search"));

        // The slider moves k.
        await page.Page.EvaluateExpressionAsync("(() => { const s = document.getElementById('playground').elements.slider; s.value = '120'; s.dispatchEvent(new Event('input', { bubbles: true })); })()");
        good = ExpectedRow(["--preset", "era", "--lr", "0.8", "--iterations", "120"]);
        AssertRowIs(good, await ShownAsync(page.Page), "slider at 120");

        foreach (var (field, value) in new[] { ("w3", "0.2.5"), ("k", "0"), ("k", "1e9"), ("lr", "-1"), ("t1", "") })
        {
            await page.Page.EvaluateFunctionAsync(set, field, value);
            Assert.True(await ErrorShownAsync(page.Page), $"{field} = {value}: no error shown");
            Assert.EndsWith("showing the last good values.", await ErrorAsync(page.Page));
            AssertRowIs(good, await ShownAsync(page.Page), $"{field} = {value}");
            Assert.Equal("?preset=era&lr=0.8&k=120", await page.Page.EvaluateExpressionAsync<string>("location.search"));
        }
        // Back and forward in history go through the same check.
        await page.Page.EvaluateExpressionAsync("history.pushState(null, '', '?k=-1'); dispatchEvent(new PopStateEvent('popstate'))");
        Assert.Contains("k = -1", await ErrorAsync(page.Page));
        AssertRowIs(good, await ShownAsync(page.Page), "popstate to k=-1");
        Assert.Empty(page.Errors);
    }

    private sealed record Opened(IPage Page, List<string> Errors);

    private async Task<Opened> OpenAsync(string query)
    {
        // The page itself, offline, with the query as a student's link carries it.
        var page = await handouts.Browser.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, e) => { if (e.Message.Type is ConsoleType.Error) lock (errors) errors.Add(e.Message.Text); };
        page.PageError += (_, e) => { lock (errors) errors.Add(e.Message); };
        string self = new Uri(PagePath).AbsoluteUri;
        await page.SetRequestInterceptionAsync(true);
        page.Request += async (_, e) =>
        {
            if (e.Request.Url.StartsWith(self, StringComparison.Ordinal) || e.Request.Url.StartsWith("data:", StringComparison.Ordinal)) await e.Request.ContinueAsync();
            else { lock (errors) errors.Add("request " + e.Request.Url); await e.Request.AbortAsync(); }
        };
        await page.GoToAsync(self + query, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 60_000 });
        await HandoutPageTests.WaitReadyAsync(page);
        return new Opened(page, errors);
    }

    private static Task<bool> ErrorShownAsync(IPage page) => page.EvaluateExpressionAsync<bool>("!document.getElementById('playground-error').hidden");

    private static Task<string> ErrorAsync(IPage page) => page.EvaluateExpressionAsync<string>("document.getElementById('playground-error').textContent");

    /// <summary>Every data-playground element: its name and its text (an element may appear more than once: k).</summary>
    private static async Task<List<(string Name, string Text)>> ShownAsync(IPage page) =>
        (await page.EvaluateExpressionAsync<string[][]>("Array.from(document.querySelectorAll('[data-playground]'), e => [e.dataset.playground, e.textContent])"))
            .Select(p => (p[0], p[1])).ToList();

    /// <summary>The last row of `./era backprop … --format csv`, column name → value.</summary>
    private static Dictionary<string, double> ExpectedRow(string[] options)
    {
        var (code, csv, err) = CliRunner.Run(["backprop", .. options, "--format", "csv"]);
        Assert.True(code == 0, err);
        var lines = csv.TrimEnd('\n').Split('\n');
        var header = lines[0].Split(',');
        var last = lines[^1].Split(',');
        return header.Zip(last).ToDictionary(p => p.First, p => double.Parse(p.Second, CultureInfo.InvariantCulture));
    }

    private static void AssertRowIs(Dictionary<string, double> expected, List<(string Name, string Text)> shown, string what)
    {
        // Every column of the CSV is on the page, and nothing else is marked.
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), shown.Select(s => s.Name).Distinct().Order(StringComparer.Ordinal));
        foreach (var (name, text) in shown)
        {
            Assert.True(double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value), $"{what}: {name} shows \"{text}\"");
            double want = expected[name], scale = Math.Max(Math.Abs(want), Math.Abs(value));
            Assert.True(value == want || Math.Abs(value - want) <= 1e-12 * scale,
                $"{what}: {name} shows {text}, ./era backprop gives {want.ToString("R", CultureInfo.InvariantCulture)} (relative {Math.Abs(value - want) / scale:E2})");
        }
    }
}
