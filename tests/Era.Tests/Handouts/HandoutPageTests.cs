using Era.Figures;
using Era.Tests.Figures;
using PuppeteerSharp;
using PuppeteerSharp.Media;

namespace Era.Tests.Handouts;

/// <summary>
/// Every handout page loaded in headless Chromium the way a student opens it (a file:// page): no console error, no
/// request beyond the page itself (every request is intercepted), math typeset by KaTeX, figures drawn by plotly.js,
/// and a screenshot that is not blank.
/// </summary>
[Collection("Chromium")]
public class HandoutPageTests(HandoutsFixture handouts) : IClassFixture<HandoutsFixture>
{
    public static TheoryData<string, int> Pages => new()
    {
        // page, figures on it
        { "01-backprop.html", 1 },
        { "02-mnist.html", 1 },
        { "index.html", 0 },
        { "check-your-sheet.html", 0 },
    };

    internal sealed record Loaded(IPage Page, List<string> Errors, List<string> Requests, List<string> Blocked);

    /// <summary>Opens a file with every request intercepted: only the page itself and data: URLs may load.</summary>
    internal Task<Loaded> OpenAsync(string path) => OpenAsync(handouts.Browser, path);

    internal static async Task<Loaded> OpenAsync(IBrowser browser, string path)
    {
        var page = await browser.NewPageAsync();
        var loaded = new Loaded(page, [], [], []);
        string self = new Uri(path).AbsoluteUri;
        page.Console += (_, e) =>
        {
            if (e.Message.Type is ConsoleType.Error or ConsoleType.Assert) lock (loaded.Errors) loaded.Errors.Add(e.Message.Text);
        };
        page.PageError += (_, e) => { lock (loaded.Errors) loaded.Errors.Add(e.Message); };
        await page.SetRequestInterceptionAsync(true);
        page.Request += async (_, e) =>
        {
            string url = e.Request.Url;
            lock (loaded.Requests) loaded.Requests.Add(url);
            if (url == self || url.StartsWith("data:", StringComparison.Ordinal)) await e.Request.ContinueAsync();
            else
            {
                lock (loaded.Blocked) loaded.Blocked.Add(url);
                await e.Request.AbortAsync();
            }
        };
        await page.GoToAsync(self, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 60_000 });
        return loaded;
    }

    internal static Task WaitReadyAsync(IPage page) =>
        page.WaitForFunctionAsync("() => document.documentElement.dataset.eraReady === '1'", new WaitForFunctionOptions { Timeout = 60_000 });

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task EveryPageLoadsOfflineWithMathAndFiguresDrawn(string file, int figures)
    {
        var (page, errors, requests, blocked) = await OpenAsync(Path.Combine(handouts.Out, file));
        await using var _ = page;
        await WaitReadyAsync(page);

        Assert.Empty(blocked);
        Assert.Equal([new Uri(Path.Combine(handouts.Out, file)).AbsoluteUri], requests.Where(r => !r.StartsWith("data:", StringComparison.Ordinal)).Distinct());
        // KaTeX typeset every piece of math, and none of it is a TeX error shown in red.
        int math = await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.math').length");
        int typeset = await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.math > .katex, .math > .katex-display').length");
        int texErrors = await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.katex-error').length");
        if (file != "index.html") Assert.True(math > 0, "no math on the page");
        Assert.Equal(math, typeset);
        Assert.Equal(0, texErrors);
        // The KaTeX fonts came from the page itself (data: URLs), not a fallback font.
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.fonts.check('16px KaTeX_Main')"));

        // plotly.js drew each figure (an svg.main-svg), none was left to its static picture.
        Assert.Equal(figures, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('figure.figure').length"));
        Assert.Equal(figures, await page.EvaluateExpressionAsync<int>("Array.from(document.querySelectorAll('figure.figure'), f => f.querySelector('.interactive svg.main-svg')).filter(s => s).length"));
        Assert.Equal(0, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('figure.undrawn').length"));
        Assert.Empty(errors);

        var png = Png.Decode(await page.ScreenshotDataAsync(new ScreenshotOptions { Type = ScreenshotType.Png }));
        Assert.True(png.BrightnessVariance() > 100, $"{file}: brightness variance {png.BrightnessVariance():0.0}: blank?");
        Assert.True(png.DistinctColors() >= 8, $"{file}: {png.DistinctColors()} colors");
    }

    [Fact]
    public async Task TheFiguresHoldTheNotebooksTraces()
    {
        var (page, errors, _, _) = await OpenAsync(Path.Combine(handouts.Out, "01-backprop.html"));
        await using var _ = page;
        await WaitReadyAsync(page);
        Assert.Equal(["η = 0.5", "η = 2"], await page.EvaluateExpressionAsync<string[]>(
            "Array.from(document.querySelector('figure.figure .js-plotly-plot').data, t => t.name)"));
        // The require.js-style output (02) got the inlined plotly.js through the page's stand-in.
        var (page2, errors2, _, _) = await OpenAsync(Path.Combine(handouts.Out, "02-mnist.html"));
        await using var __ = page2;
        await WaitReadyAsync(page2);
        Assert.Equal(PlotlyJs.Version, await page2.EvaluateExpressionAsync<string>("Plotly.version"));
        Assert.Equal(4, await page2.EvaluateExpressionAsync<int>("document.querySelector('figure.figure .js-plotly-plot').data[0].x.length"));
        Assert.Empty(errors);
        Assert.Empty(errors2);
    }

    [Fact]
    public async Task PrintingShowsTheStaticPictureOfAFigure()
    {
        var (page, _, _, _) = await OpenAsync(Path.Combine(handouts.Out, "01-backprop.html"));
        await using var _ = page;
        await WaitReadyAsync(page);
        const string visible = "(sel) => { const e = document.querySelector(sel); return !!e && getComputedStyle(e).display !== 'none'; }";
        Assert.True(await page.EvaluateFunctionAsync<bool>(visible, "figure.figure .interactive"));
        Assert.False(await page.EvaluateFunctionAsync<bool>(visible, "figure.figure .fallback"));
        await page.EmulateMediaTypeAsync(MediaType.Print);
        Assert.False(await page.EvaluateFunctionAsync<bool>(visible, "figure.figure .interactive"));
        Assert.True(await page.EvaluateFunctionAsync<bool>(visible, "figure.figure .fallback"));
        Assert.False(await page.EvaluateFunctionAsync<bool>(visible, "nav"));
        byte[] pdf = await page.PdfDataAsync(new PdfOptions { Format = PaperFormat.A4, PrintBackground = true });
        Assert.StartsWith("%PDF", System.Text.Encoding.ASCII.GetString(pdf, 0, 4));
    }

    [Fact]
    public async Task TheInterceptionCatchesARequestToTheNetwork()
    {
        // The checks above can fail: a page that loads a picture from the web is caught, and so is a script error.
        string path = Path.Combine(handouts.Root, "leaky.html");
        File.WriteAllText(path, "<!DOCTYPE html><html><body><img src=\"https://example.com/x.png\"><script>noSuchFunction()</script></body></html>");
        var (page, errors, _, blocked) = await OpenAsync(path);
        await using var _ = page;
        Assert.Equal(["https://example.com/x.png"], blocked);
        Assert.Contains(errors, e => e.Contains("noSuchFunction", StringComparison.Ordinal));
    }
}
