using System.Text.Json;
using System.Xml.Linq;
using Era.Backprop;
using Era.Figures;

namespace Era.Tests.Figures;

/// <summary>`plot lr --grid --log`: the title says the axis is logarithmic, and each small panel's log axis carries a
/// few readable labels rather than every minor digit — counted in the SVG that plotly.js draws in Chromium.</summary>
public sealed class LogAxisTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-log-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static IReadOnlyList<IterationTable> Sweep() =>
        LearningRateSweep.Run(NetworkConfig.Classic, LearningRateSweep.DefaultRates, IterationTable.DefaultIterations);

    [Fact]
    public void TitlesSayTheAxisIsLogarithmicOnlyWhenItIs()
    {
        foreach (var (figure, log) in new[]
                 {
                     (Charts.LearningRateGrid(Sweep(), logY: true), true), (Charts.LearningRates(Sweep(), logY: true), true),
                     (Charts.LearningRateGrid(Sweep()), false), (Charts.LearningRates(Sweep()), false),
                 })
        {
            var layout = JsonDocument.Parse(figure.ToJson()).RootElement.GetProperty("layout");
            string title = layout.GetProperty("title").GetProperty("text").GetString()!;
            Assert.Equal(log, title.Contains("log axis", StringComparison.Ordinal));
            var yaxes = layout.EnumerateObject().Where(p => p.Name.StartsWith("yaxis", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(yaxes);
            foreach (var y in yaxes)
                Assert.Equal(log ? "log" : null, y.Value.TryGetProperty("type", out var t) ? t.GetString() : null);
        }
    }

    /// <summary>The y tick labels of every panel, read from plotly.js's SVG: g.ytick, g.y2tick, … hold one text each.</summary>
    private static Dictionary<string, List<string>> TickLabels(string svgPath)
    {
        var svg = XDocument.Load(svgPath);
        XNamespace ns = "http://www.w3.org/2000/svg";
        return svg.Descendants(ns + "g")
            .Select(g => (Class: (string?)g.Attribute("class") ?? "", Text: string.Concat(g.Descendants(ns + "text").Select(t => t.Value))))
            .Where(g => System.Text.RegularExpressions.Regex.IsMatch(g.Class, @"^y\d*tick$") && g.Text.Length > 0)
            .GroupBy(g => g.Class)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Text).ToList());
    }

    [Fact]
    public void EachLogPanelHasAFewLabels()
    {
        string path = Path.Combine(_dir, "grid.svg");
        var (code, _, stderr) = Era.Tests.Cli.CliRunner.Run("plot", "lr", "--grid", "--log", "--out", path);
        Assert.Equal((0, ""), (code, stderr));
        var labels = TickLabels(path);
        Assert.Equal(6, labels.Count); // one y axis per learning rate
        // Before: up to 16 labels a panel, the minor ones bare digits ("7, 8, 9, 0.01, 2, 3, …") run together. Now a few
        // full values (0.01, 0.02, 0.05, 0.1, …): every label is a number in E_total's range (all below 1 here).
        foreach (var (axis, texts) in labels)
        {
            Assert.InRange(texts.Count, 2, 7);
            foreach (var t in texts)
                Assert.True(double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out double v) && v > 0 && v < 1,
                    $"{axis}: label '{t}' in [{string.Join(", ", texts)}]");
        }
    }
}
