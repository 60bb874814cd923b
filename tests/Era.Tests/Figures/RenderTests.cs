using System.Text.Json;
using System.Xml.Linq;
using Era.Backprop;
using Era.Figures;

namespace Era.Tests.Figures;

/// <summary>
/// One headless Chromium for all rendering tests (starting one per test would cost a second each). If Chromium or
/// lib/web/node_modules is missing, every test in the collection fails with the message that says how to install it.
/// </summary>
public sealed class ChromiumFixture : IDisposable
{
    public ChromiumRenderer Renderer { get; } = ChromiumRenderer.Start(new ChromiumOptions { StartTimeout = TimeSpan.FromSeconds(60) });

    public void Dispose() => Renderer.Dispose();
}

[CollectionDefinition("Chromium")]
public sealed class ChromiumCollection : ICollectionFixture<ChromiumFixture>;

/// <summary>Figures drawn by plotly.js in a real browser: accepted as written, exported as real, non-blank images.</summary>
[Collection("Chromium")]
public class RenderTests(ChromiumFixture fixture)
{
    private readonly ChromiumRenderer _chromium = fixture.Renderer;

    public static TheoryData<string> FigureNames => ["lr", "lr-log", "lr-grid", "network", "network-biases", "training", "confusion", "digits", "model"];

    internal static Figure Build(string name)
    {
        var tables = LearningRateSweep.Run(NetworkConfig.Classic, LearningRateSweep.DefaultRates, 60);
        var digits = Enumerable.Range(0, 6).Select(k =>
        {
            var im = new float[28 * 28];
            for (int r = 4; r < 24; r++) im[r * 28 + 8 + k] = 1f;  // a vertical stroke
            return im;
        }).ToArray();
        var counts = new int[10, 10];
        for (int i = 0; i < 10; i++) { counts[i, i] = 90 + i; counts[i, (i + 1) % 10] = i; }
        return name switch
        {
            "lr" => Charts.LearningRates(tables),
            "lr-log" => Charts.LearningRates(tables, logY: true),
            "lr-grid" => Charts.LearningRateGrid(tables, logY: true),
            "network" => Charts.Network(NetworkConfig.Classic),
            "network-biases" => Charts.Network(NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 }),
            "training" => Charts.TrainingCurves(new TrainingHistory([2.3, 0.4, 0.2, 0.1], [2.2, 0.5, 0.3, 0.3], [0.1, 0.9, 0.95, 0.97], [0.1, 0.88, 0.93, 0.94])),
            "confusion" => Charts.ConfusionMatrix(counts),
            "digits" => Charts.DigitGrid(digits, digits.Select((_, k) => Charts.DigitCaption(k, (k + 1) % 10)).ToArray(), columns: 3),
            "model" => EveryPartOfTheModel(),
            _ => throw new ArgumentException(name),
        };
    }

    /// <summary>The parts of the model no chart uses (bars, layout.grid, ...), so that plotly.js checks their names too.</summary>
    private static Figure EveryPartOfTheModel() => new()
    {
        Data =
        [
            new Bar { Name = "bars", X = ["a", "b"], Y = [1, 2], Text = ["1", "2"], TextPosition = "outside", Marker = new Marker { Color = "#888" }, ShowLegend = true, LegendGroup = "g" },
            new Scatter { Name = "dots", X = [1, 2], Y = [3, 4], Mode = "lines+markers+text", Text = ["p", "q"], TextPosition = "top center", Marker = new Marker { Symbol = "square", Size = 8 }, XAxis = "x2", YAxis = "y2", Line = new Line { Dash = "dot", Width = 1 }, HoverInfo = "x+y", TextFont = new Font { Family = "sans-serif", Size = 10, Color = "#000" } },
            new Heatmap { Name = "cells", Z = [[1, 2]], ZMin = 0, ZMax = 3, ShowScale = false, XGap = 1, YGap = 1, XAxis = "x2", YAxis = "y2", TextFont = new Font { Size = 9 } },
        ],
        Layout =
        {
            Title = new Title { Text = "model", Font = new Font { Size = 20 } },
            Grid = new LayoutGrid { Rows = 1, Columns = 2, Pattern = "independent", RowOrder = "top to bottom", XGap = 0.1, YGap = 0.1 },
            Legend = new Legend { X = 1, Y = 1, XAnchor = "right", YAnchor = "top", Orientation = "v", Title = new Title("legend") },
            Margin = new Margin { Left = 40, Right = 10, Top = 40, Bottom = 40 },
            Font = new Font { Size = 12 },
            HoverMode = "closest",
            XAxis = new Axis { Type = "category", Ticks = "outside", ShowTickLabels = true },
            YAxis = new Axis { Type = "log", Range = [-1, 1], DTick = 1, ShowGrid = true, ZeroLine = false, ExponentFormat = "power" },
            Shapes = [new Shape { Type = "rect", X0 = 0, X1 = 1, Y0 = 0, Y1 = 1, XRef = "paper", YRef = "paper", Layer = "below", Line = new Line { Color = "#ccc" } }],
            Annotations = [new Annotation { Text = "note", X = 0.5, Y = 0.5, XRef = "paper", YRef = "paper", ShowArrow = false, BackgroundColor = "white" }],
        },
        Config = new Config { Responsive = true, DisplayLogo = false, DisplayModeBar = false, StaticPlot = false },
    };

    [Theory]
    [MemberData(nameof(FigureNames))]
    public void PlotlyDrawsEveryFigureAsWrittenWithoutErrors(string name)
    {
        var figure = Build(name);
        var check = _chromium.Check(figure);
        Assert.Empty(check.ConsoleErrors);
        // Plotly.validate lists every attribute plotly.js does not know or rejects: a misnamed one shows up here.
        Assert.Empty(check.InvalidAttributes);
        Assert.Equal(figure.Data.Count, check.TraceCount);
        Assert.Equal(figure.Data.Select(t => t.Name), check.TraceNames);
        Assert.Equal(figure.Data.Select(t => t.Type), check.TraceTypes);
    }

    [Fact]
    public void ValidationCatchesAnAttributePlotlyDoesNotKnow()
    {
        // The check above can fail: a misspelt color scale is reported by plotly.js.
        var figure = new Figure { Data = [new Heatmap { Z = [[1, 2], [3, 4]], ColorScale = "NoSuchScale" }] };
        var check = _chromium.Check(figure);
        Assert.NotEmpty(check.InvalidAttributes);
    }

    [Fact]
    public void PngExportHasTheRequestedSizeAndIsNotBlank()
    {
        byte[] bytes = _chromium.Export(Build("lr"), ImageFormat.Png, 640, 400);
        var png = Png.Decode(bytes);
        Assert.Equal((640, 400), (png.Width, png.Height));
        Assert.True(png.BrightnessVariance() > 100, $"brightness variance {png.BrightnessVariance():0.0}: blank?");
        Assert.True(png.DistinctColors() >= 8, $"{png.DistinctColors()} colors: six lines, axes and text need more");
        Assert.InRange(png.InkFraction(), 0.01, 0.6);
    }

    [Fact]
    public void PngPixelsAreTheColorsTheLayoutAsksFor()
    {
        // Independent check of the export and of the PNG decoder: a red page around a green plot area.
        var figure = new Figure
        {
            Data = [new Scatter { X = [0, 1], Y = [0, 1], Mode = "lines" }],
            Layout =
            {
                PaperBackgroundColor = "#ff0000",
                PlotBackgroundColor = "#00ff00",
                Margin = new Margin { Left = 50, Right = 50, Top = 50, Bottom = 50 },
                XAxis = new Axis { ShowGrid = false, ZeroLine = false },
                YAxis = new Axis { ShowGrid = false, ZeroLine = false },
            },
        };
        var png = Png.Decode(_chromium.Export(figure, ImageFormat.Png, 300, 200));
        Assert.Equal(0xFF0000, png.Rgb(2, 2));
        Assert.Equal(0xFF0000, png.Rgb(297, 197));
        Assert.Equal(0x00FF00, png.Rgb(240, 140));  // inside the plot area (50..250, 50..150), away from the line
    }

    [Fact]
    public void SvgExportHasTheRequestedSizeAndDrawsEveryLine()
    {
        var figure = Build("lr");
        byte[] bytes = _chromium.Export(figure, ImageFormat.Svg, 720, 480);
        var svg = XDocument.Parse(System.Text.Encoding.UTF8.GetString(bytes)).Root!;
        Assert.Equal("svg", svg.Name.LocalName);
        Assert.Equal("720", svg.Attribute("width")?.Value);
        Assert.Equal("480", svg.Attribute("height")?.Value);
        static string Class(XElement e) => e.Attribute("class")?.Value ?? "";
        var lines = svg.Descendants()
            .Where(e => e.Name.LocalName == "path" && Class(e).Contains("js-line", StringComparison.Ordinal))
            .Where(e => e.Ancestors().Any(a => Class(a).Contains("scatterlayer", StringComparison.Ordinal)))  // not the legend's samples
            .ToList();
        Assert.Equal(figure.Data.Count, lines.Count);
        Assert.All(lines, l => Assert.Contains("L", l.Attribute("d")?.Value ?? ""));  // at least one segment
    }

    [Fact]
    public void SavingReplacesTheFileAtomicallyAndAFailedExportLeavesItAlone()
    {
        string dir = Directory.CreateTempSubdirectory("era-fig-").FullName;
        var timeout = _chromium.RenderTimeout;
        try
        {
            string path = Path.Combine(dir, "net.png");
            File.WriteAllText(path, "old");
            FigureFile.Save(Build("network"), path, 500, 300, _chromium);
            Assert.Equal((500, 300), (Png.Decode(File.ReadAllBytes(path)).Width, Png.Decode(File.ReadAllBytes(path)).Height));
            Assert.Equal(["net.png"], Directory.GetFiles(dir).Select(Path.GetFileName));

            // A render that times out: an error, the old file intact, nothing half-written beside it.
            byte[] before = File.ReadAllBytes(path);
            _chromium.RenderTimeout = TimeSpan.FromMilliseconds(1);
            var e = Assert.Throws<FigureRenderException>(() => FigureFile.Save(Build("lr-grid"), path, 500, 300, _chromium));
            Assert.Contains("render timeout", e.Message);
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Equal(["net.png"], Directory.GetFiles(dir).Select(Path.GetFileName));

            // A timeout that fires at any moment (before, during or after the command is sent) must not break the
            // browser for the figures after it: try many short ones, each followed by a render that must succeed.
            for (int i = 0; i < 20; i++)
            {
                _chromium.RenderTimeout = TimeSpan.FromTicks(i * 1500);
                try { _chromium.Check(Build("network")); } catch (FigureRenderException) { }
                _chromium.RenderTimeout = timeout;
                Assert.Equal(3, _chromium.Check(Build("network")).TraceCount);
            }
        }
        finally
        {
            _chromium.RenderTimeout = timeout;
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ARenderThatNeverFinishesIsAClearErrorNotAHang()
    {
        var timeout = _chromium.RenderTimeout;
        _chromium.RenderTimeout = TimeSpan.FromSeconds(0.5);
        try
        {
            var e = await Assert.ThrowsAsync<FigureRenderException>(() => _chromium.RunAsync("new Promise(() => {})", "draw the figure"));
            Assert.Contains("did not draw the figure within 0.5 s", e.Message);
        }
        finally
        {
            _chromium.RenderTimeout = timeout;
        }
        // The browser is still usable afterwards.
        Assert.Equal(3, _chromium.Check(Build("network")).TraceCount);
    }

    [Fact]
    public async Task AJavaScriptErrorIsReportedWithItsMessage()
    {
        var e = await Assert.ThrowsAsync<FigureRenderException>(() => _chromium.RunAsync("Plotly.noSuchFunction()", "draw the figure"));
        Assert.Contains("noSuchFunction", e.Message);
    }

    [Fact]
    public void OneBrowserExportsSeveralFigures()
    {
        foreach (var name in new[] { "lr", "network", "confusion", "digits" })
        {
            var png = Png.Decode(_chromium.Export(Build(name), ImageFormat.Png));
            Assert.True(png.BrightnessVariance() > 10, $"{name}: blank?");
        }
        Assert.True(_chromium.IsRunning);
    }

    [Fact]
    public void PlotlyInTheBrowserIsThePinnedVersion() => Assert.Equal(PlotlyJs.Version, _chromium.PlotlyVersion);

    private static string TempHtml(string html)
    {
        string path = Path.Combine(Path.GetTempPath(), $"era-fig-{Guid.NewGuid():N}.html");
        File.WriteAllText(path, html);
        return path;
    }

    private static string LocalPlotlyTag() => $"<script src=\"{new Uri(HtmlTests.LocalPlotly()).AbsoluteUri}\"></script>";

    [Fact]
    public async Task HandoutPageDrawsTheFigureOffline()
    {
        var figure = Build("lr-grid");
        string path = TempHtml(PlotlyHtml.Page(figure));
        try
        {
            var (value, errors) = await _chromium.OpenPageAsync(path, "document.getElementById('figure').data && document.getElementById('figure').data.length");
            Assert.Equal(6, value.GetInt32());
            Assert.Empty(errors);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task FragmentDrawsWithAPlotlyAlreadyOnThePage()
    {
        string path = TempHtml($"<!DOCTYPE html><html><head>{LocalPlotlyTag()}</head><body>{PlotlyHtml.Fragment(Build("training"), "fig")}</body></html>");
        try
        {
            var (value, errors) = await _chromium.OpenPageAsync(path, "document.getElementById('fig').data && document.getElementById('fig').data.length");
            Assert.Equal(4, value.GetInt32());
            Assert.Empty(errors);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task FragmentAsksRequireJsForThePinnedVersion()
    {
        // A stand-in for a notebook's require.js: records the configuration and hands over the local plotly.js.
        string fakeRequire = """
            <script>
              window.LocalPlotly = window.Plotly; delete window.Plotly;
              window.requirejs = function (deps, callback) { window.requested = deps; callback(window.LocalPlotly); };
              window.requirejs.config = function (c) { window.requireConfig = c; };
            </script>
            """;
        string path = TempHtml($"<!DOCTYPE html><html><head>{LocalPlotlyTag()}{fakeRequire}</head><body>{PlotlyHtml.Fragment(Build("lr"), "fig")}</body></html>");
        try
        {
            var (value, errors) = await _chromium.OpenPageAsync(path,
                "document.getElementById('fig').data && { traces: document.getElementById('fig').data.length, path: window.requireConfig.paths.plotly, deps: window.requested }");
            Assert.Equal(6, value.GetProperty("traces").GetInt32());
            Assert.Equal($"https://cdn.plot.ly/plotly-cartesian-{PlotlyJs.Version}.min", value.GetProperty("path").GetString());
            Assert.Equal("plotly", value.GetProperty("deps")[0].GetString());
            Assert.Empty(errors);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task FragmentWithoutRequireJsAddsOneScriptTagForAllFigures()
    {
        // No plotly.js and no require.js on the page: the fragments add a script tag for the CDN (recorded, not loaded).
        string record = "<script>window.added = []; document.head.appendChild = function (e) { window.added.push(e.src); return e; };</script>";
        string path = TempHtml($"<!DOCTYPE html><html><head>{record}</head><body>{PlotlyHtml.Fragment(Build("lr"))}{PlotlyHtml.Fragment(Build("network"))}</body></html>");
        try
        {
            var (value, _) = await _chromium.OpenPageAsync(path, "document.readyState === 'complete' && window.added");
            Assert.Equal([PlotlyJs.CdnUrl], value.EnumerateArray().Select(v => v.GetString()));
        }
        finally { File.Delete(path); }
    }
}
