using System.Text.Json;
using Era.Backprop;
using Era.Figures;

namespace Era.Tests.Figures;

/// <summary>The figures' plotly.js JSON, read back with a JSON parser: traces, data, axes, layout.</summary>
public class FigureJsonTests
{
    private static IReadOnlyList<IterationTable> Sweep(int iterations = 181) =>
        LearningRateSweep.Run(NetworkConfig.Classic, LearningRateSweep.DefaultRates, iterations);

    private static JsonElement Json(Figure f) => JsonDocument.Parse(f.ToJson()).RootElement;

    private static string Title(JsonElement axis) => axis.GetProperty("title").GetProperty("text").GetString()!;

    [Fact]
    public void LearningRateChartHasOneLinePerRateWithEveryIteration()
    {
        var tables = Sweep();
        var json = Json(Charts.LearningRates(tables));
        var data = json.GetProperty("data");
        Assert.Equal(6, data.GetArrayLength());
        string[] names = ["η = 0.1", "η = 0.2", "η = 0.5", "η = 0.8", "η = 1", "η = 2"];
        for (int i = 0; i < 6; i++)
        {
            var trace = data[i];
            Assert.Equal("scatter", trace.GetProperty("type").GetString());
            Assert.Equal("lines", trace.GetProperty("mode").GetString());
            Assert.Equal(names[i], trace.GetProperty("name").GetString());
            var x = trace.GetProperty("x").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var y = trace.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(Enumerable.Range(1, 181).Select(k => (double)k), x);
            Assert.Equal(tables[i].Losses(), y);
        }
        // The first point is the untrained network's loss, the same for every η: the classic example without biases.
        var c = NetworkConfig.Classic;
        Assert.Equal(TwoLayerNetwork.Loss(c, c.Weights), data[5].GetProperty("y")[0].GetDouble());
        var layout = json.GetProperty("layout");
        Assert.Equal("iteration", Title(layout.GetProperty("xaxis")));
        Assert.Equal("E_total", Title(layout.GetProperty("yaxis")));
        Assert.False(layout.GetProperty("yaxis").TryGetProperty("type", out _));
    }

    [Fact]
    public void LogOptionMakesTheLossAxisLogarithmic()
    {
        var layout = Json(Charts.LearningRates(Sweep(20), logY: true)).GetProperty("layout");
        Assert.Equal("log", layout.GetProperty("yaxis").GetProperty("type").GetString());
        Assert.False(layout.GetProperty("xaxis").TryGetProperty("type", out _));
    }

    [Fact]
    public void SmallMultiplesPutEachRateOnItsOwnAxesInATwoByThreeGrid()
    {
        var json = Json(Charts.LearningRateGrid(Sweep(30), logY: true));
        var data = json.GetProperty("data");
        var layout = json.GetProperty("layout");
        Assert.Equal(6, data.GetArrayLength());
        var xDomains = new List<(double, double)>();
        var yDomains = new List<(double, double)>();
        for (int k = 1; k <= 6; k++)
        {
            string suffix = k == 1 ? "" : k.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal("x" + suffix, data[k - 1].GetProperty("xaxis").GetString());
            Assert.Equal("y" + suffix, data[k - 1].GetProperty("yaxis").GetString());
            Assert.Equal(30, data[k - 1].GetProperty("y").GetArrayLength());
            var x = layout.GetProperty("xaxis" + suffix);
            var y = layout.GetProperty("yaxis" + suffix);
            Assert.Equal("log", y.GetProperty("type").GetString());
            Assert.Equal("y" + suffix, x.GetProperty("anchor").GetString());
            var xd = x.GetProperty("domain");
            var yd = y.GetProperty("domain");
            xDomains.Add((xd[0].GetDouble(), xd[1].GetDouble()));
            yDomains.Add((yd[0].GetDouble(), yd[1].GetDouble()));
        }
        Assert.All(xDomains.Concat(yDomains), d => Assert.True(0 <= d.Item1 && d.Item1 < d.Item2 && d.Item2 <= 1, $"domain {d}"));
        // Three columns, two rows, none overlapping; subplot 1 top left, 6 bottom right.
        var columns = xDomains.Distinct().OrderBy(d => d.Item1).ToList();
        var rows = yDomains.Distinct().OrderBy(d => d.Item1).ToList();
        Assert.Equal(3, columns.Count);
        Assert.Equal(2, rows.Count);
        Assert.True(columns[0].Item2 < columns[1].Item1 && columns[1].Item2 < columns[2].Item1);
        Assert.True(rows[0].Item2 < rows[1].Item1);
        Assert.Equal(columns[0], xDomains[0]);
        Assert.Equal(rows[1], yDomains[0]);
        Assert.Equal(columns[2], xDomains[5]);
        Assert.Equal(rows[0], yDomains[5]);
        // Axis titles on the outer edge only; one title per subplot.
        Assert.Equal("iteration", Title(layout.GetProperty("xaxis4")));
        Assert.False(layout.GetProperty("xaxis").TryGetProperty("title", out _));
        Assert.Equal("E_total", Title(layout.GetProperty("yaxis4")));
        Assert.False(layout.GetProperty("yaxis2").TryGetProperty("title", out _));
        var titles = layout.GetProperty("annotations").EnumerateArray().Select(a => a.GetProperty("text").GetString()).ToList();
        Assert.Equal(["η = 0.1", "η = 0.2", "η = 0.5", "η = 0.8", "η = 1", "η = 2"], titles);
    }

    [Fact]
    public void ManySmallMultiplesStillGetAPanelEach()
    {
        // 24 rates: 8 rows of 3. Every panel's y domain must be a real, ascending interval that no other panel overlaps.
        var rates = Enumerable.Range(1, 24).Select(k => k / 10.0).ToArray();
        var layout = Json(Charts.LearningRateGrid(LearningRateSweep.Run(NetworkConfig.Classic, rates, 5))).GetProperty("layout");
        var domains = Enumerable.Range(1, 24)
            .Select(k => layout.GetProperty(k == 1 ? "yaxis" : $"yaxis{k}").GetProperty("domain"))
            .Select(d => (Low: d[0].GetDouble(), High: d[1].GetDouble())).ToList();
        Assert.All(domains, d => Assert.True(d.Low < d.High, $"domain [{d.Low}, {d.High}]"));
        var rows = domains.Distinct().OrderBy(d => d.Low).ToList();
        Assert.Equal(8, rows.Count);
        for (int i = 1; i < rows.Count; i++) Assert.True(rows[i - 1].High <= rows[i].Low);
    }

    [Fact]
    public void JsonUsesPlotlyAttributeNamesAndLeavesOutUnsetOnes()
    {
        string json = Charts.LearningRateGrid(Sweep(5)).ToJson();
        Assert.DoesNotContain("null", json);
        Assert.Contains("\"showlegend\":false", json);
        // Every attribute name in data and layout is plotly's: lower case (plot_bgcolor style), never .NET's PascalCase.
        void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Object)
                foreach (var p in e.EnumerateObject())
                {
                    Assert.Matches("^[a-z][a-z0-9_]*$", p.Name);
                    Walk(p.Value);
                }
            else if (e.ValueKind == JsonValueKind.Array)
                foreach (var item in e.EnumerateArray()) Walk(item);
        }
        var root = JsonDocument.Parse(json).RootElement;
        Walk(root.GetProperty("data"));
        Walk(root.GetProperty("layout"));
    }

    [Fact]
    public void NotANumberIsWrittenSoPlotlyLeavesAGap()
    {
        var f = new Figure { Data = [new Scatter { X = [1, 2, 3], Y = [1, double.NaN, 3] }] };
        var y = Json(f).GetProperty("data")[0].GetProperty("y");
        Assert.Equal(JsonValueKind.String, y[1].ValueKind);  // plotly.js skips non-numeric values
    }

    // The course's naming: h1 = w1·i1 + w2·i2, h2 = w3·i1 + w4·i2, o1 = w5·a_h1 + w6·a_h2, o2 = w7·a_h1 + w8·a_h2.
    private static readonly (string From, string To)[] CourseEdges =
        [("i1", "h1"), ("i2", "h1"), ("i1", "h2"), ("i2", "h2"), ("h1", "o1"), ("h2", "o1"), ("h1", "o2"), ("h2", "o2")];

    [Fact]
    public void NetworkDiagramLabelsEveryEdgeWithItsWeight()
    {
        var json = Json(Charts.Network(NetworkConfig.Classic));
        var data = json.GetProperty("data");
        // Unit positions, read from the traces' labels.
        var at = new Dictionary<string, (double X, double Y)>();
        foreach (var trace in data.EnumerateArray())
            for (int i = 0; i < trace.GetProperty("text").GetArrayLength(); i++)
                at[trace.GetProperty("text")[i].GetString()!] = (trace.GetProperty("x")[i].GetDouble(), trace.GetProperty("y")[i].GetDouble());
        Assert.Equal(["h1", "h2", "i1", "i2", "o1", "o2"], at.Keys.Order());

        var layout = json.GetProperty("layout");
        var shapes = layout.GetProperty("shapes").EnumerateArray().ToList();
        var notes = layout.GetProperty("annotations").EnumerateArray().ToDictionary(a => a.GetProperty("text").GetString()!);
        Assert.Equal(8, shapes.Count);
        // The course's initial weights 0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55.
        string[] labels = ["w1 = 0.15", "w2 = 0.2", "w3 = 0.25", "w4 = 0.3", "w5 = 0.4", "w6 = 0.45", "w7 = 0.5", "w8 = 0.55"];
        for (int k = 0; k < 8; k++)
        {
            var (a, b) = (at[CourseEdges[k].From], at[CourseEdges[k].To]);
            // One line from unit to unit, and the weight's label lies on it.
            Assert.Contains(shapes, s => s.GetProperty("x0").GetDouble() == a.X && s.GetProperty("y0").GetDouble() == a.Y
                                         && s.GetProperty("x1").GetDouble() == b.X && s.GetProperty("y1").GetDouble() == b.Y);
            var note = notes[labels[k]];
            double px = note.GetProperty("x").GetDouble(), py = note.GetProperty("y").GetDouble();
            double cross = (b.X - a.X) * (py - a.Y) - (b.Y - a.Y) * (px - a.X);
            Assert.True(Math.Abs(cross) < 1e-9, $"{labels[k]} is not on edge {CourseEdges[k]}");
            Assert.InRange(px, Math.Min(a.X, b.X), Math.Max(a.X, b.X));
        }
        Assert.Contains("i1 = 0.05", notes.Keys);
        Assert.Contains("t2 = 0.99", notes.Keys);
        Assert.True(layout.GetProperty("xaxis").TryGetProperty("visible", out var visible) && !visible.GetBoolean());
    }

    [Fact]
    public void NetworkDiagramShowsBiasesAndGivenWeights()
    {
        var c = NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 };
        var w = new Weights(1, 2, 3, 4, 5, 6, 7, -0.125);
        var json = Json(Charts.Network(c, w));
        var notes = json.GetProperty("layout").GetProperty("annotations").EnumerateArray().Select(a => a.GetProperty("text").GetString()).ToList();
        Assert.Contains("w1 = 1", notes);
        Assert.Contains("w8 = -0.125", notes);
        Assert.DoesNotContain("w1 = 0.15", notes);
        Assert.Contains("b1 = 0.35", notes);
        Assert.Contains("b2 = 0.6", notes);
        Assert.Equal(12, json.GetProperty("layout").GetProperty("shapes").GetArrayLength());  // 8 weights + 4 bias edges
        Assert.Equal(4, json.GetProperty("data").GetArrayLength());  // inputs, hidden, outputs, biases
    }

    private static TrainingHistory History() => new(
        TrainLoss: [2.3, 0.5, 0.2],
        TestLoss: [2.2, 0.6, 0.4],
        TrainAccuracy: [0.1, 0.8, 0.95],
        TestAccuracy: [0.12, 0.78, 0.9]);

    [Fact]
    public void TrainingCurvesShowLossAndAccuracyForTrainAndTest()
    {
        var json = Json(Charts.TrainingCurves(History()));
        var data = json.GetProperty("data");
        Assert.Equal(["train loss", "test loss", "train accuracy", "test accuracy"],
            data.EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.All(data.EnumerateArray(), t => Assert.Equal([1.0, 2, 3], t.GetProperty("x").EnumerateArray().Select(v => v.GetDouble())));
        Assert.Equal([0.12, 0.78, 0.9], data[3].GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        // Loss on the left subplot, accuracy on the right.
        Assert.Equal("y", data[0].GetProperty("yaxis").GetString());
        Assert.Equal("y2", data[2].GetProperty("yaxis").GetString());
        var layout = json.GetProperty("layout");
        Assert.Equal("loss", Title(layout.GetProperty("yaxis")));
        Assert.Equal("accuracy", Title(layout.GetProperty("yaxis2")));
        Assert.Equal("epoch", Title(layout.GetProperty("xaxis2")));
    }

    [Fact]
    public void TrainingCurvesLeaveOutWhatWasNotMeasuredAndRejectMismatches()
    {
        var noTest = History() with { TestLoss = [], TestAccuracy = [] };
        Assert.Equal(2, Json(Charts.TrainingCurves(noTest)).GetProperty("data").GetArrayLength());
        var e = Assert.Throws<ArgumentException>(() => Charts.TrainingCurves(History() with { TestLoss = [1.0, 2.0] }));
        Assert.Contains("TestLoss has 2 values", e.Message);
        e = Assert.Throws<ArgumentException>(() => Charts.TrainingCurves(History() with { TestAccuracy = [0.1, 0.5, 99.4] }));
        Assert.Contains("TestAccuracy[2]", e.Message);
        Assert.Throws<ArgumentException>(() => Charts.TrainingCurves(new TrainingHistory([], [], [], [])));
    }

    [Fact]
    public void ConfusionMatrixIsAnAnnotatedHeatmapWithTrueClassesAsRows()
    {
        var counts = new int[10, 10];
        for (int i = 0; i < 10; i++) counts[i, i] = 98;
        counts[7, 1] = 5;   // five 7s taken for 1s
        counts[4, 9] = 3;
        var json = Json(Charts.ConfusionMatrix(counts));
        var heatmap = json.GetProperty("data")[0];
        Assert.Equal("heatmap", heatmap.GetProperty("type").GetString());
        var z = heatmap.GetProperty("z");
        Assert.Equal(10, z.GetArrayLength());
        Assert.All(z.EnumerateArray(), row => Assert.Equal(10, row.GetArrayLength()));
        Assert.Equal(5, z[7][1].GetDouble());
        Assert.Equal(0, z[1][7].GetDouble());
        Assert.Equal("5", heatmap.GetProperty("text")[7][1].GetString());
        Assert.Equal("%{text}", heatmap.GetProperty("texttemplate").GetString());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            heatmap.GetProperty("x").EnumerateArray().Select(v => v.GetString()));
        var layout = json.GetProperty("layout");
        Assert.Equal("predicted", Title(layout.GetProperty("xaxis")));
        Assert.Equal("true", Title(layout.GetProperty("yaxis")));
        Assert.Equal("reversed", layout.GetProperty("yaxis").GetProperty("autorange").GetString());
        // 980 correct of 988: 99.19%.
        Assert.Contains("accuracy 99.19% of 988", layout.GetProperty("title").GetProperty("text").GetString());
    }

    [Fact]
    public void ConfusionMatrixRejectsBadShapesAndCounts()
    {
        Assert.Throws<ArgumentException>(() => Charts.ConfusionMatrix(new int[3, 4]));
        Assert.Throws<ArgumentException>(() => Charts.ConfusionMatrix(new int[2, 2], ["a", "b", "c"]));
        Assert.Throws<ArgumentException>(() => Charts.ConfusionMatrix(new int[,] { { 1, -1 }, { 0, 1 } }));
    }

    private static byte[] Digit(int row, int column)
    {
        var im = new byte[28 * 28];
        im[row * 28 + column] = 255;
        return im;
    }

    [Fact]
    public void DigitGridDrawsEachImageRowMajorWithItsCaption()
    {
        var images = new[] { Digit(3, 5), Digit(27, 0), Digit(0, 27) };
        string[] captions = [Charts.DigitCaption(7, 1), Charts.DigitCaption(3, 3), Charts.DigitCaption(9, 4)];
        Assert.Equal("true 7 / predicted 1", captions[0]);
        var json = Json(Charts.DigitGrid(images, captions, columns: 2));
        var data = json.GetProperty("data");
        Assert.Equal(3, data.GetArrayLength());
        var z = data[0].GetProperty("z");
        Assert.Equal(28, z.GetArrayLength());
        Assert.All(z.EnumerateArray(), row => Assert.Equal(28, row.GetArrayLength()));
        Assert.Equal(255, z[3][5].GetDouble());   // row 3, column 5
        Assert.Equal(0, z[5][3].GetDouble());
        Assert.Equal(255, data[1].GetProperty("z")[27][0].GetDouble());
        Assert.Equal(0, data[0].GetProperty("zmin").GetDouble());
        Assert.Equal(255, data[0].GetProperty("zmax").GetDouble());
        Assert.Equal("x3", data[2].GetProperty("xaxis").GetString());
        var layout = json.GetProperty("layout");
        Assert.Equal("reversed", layout.GetProperty("yaxis3").GetProperty("autorange").GetString());
        Assert.Equal(captions, layout.GetProperty("annotations").EnumerateArray().Select(a => a.GetProperty("text").GetString()));
    }

    [Fact]
    public void FloatDigitsUseTheirOwnRangeAndBadImagesAreRejected()
    {
        var a = new float[28 * 28];
        var b = new float[28 * 28];
        a[0] = -0.5f;
        b[1] = 2.5f;
        var trace = Json(Charts.DigitGrid([a, b])).GetProperty("data")[0];
        Assert.Equal(-0.5, trace.GetProperty("zmin").GetDouble());
        Assert.Equal(2.5, trace.GetProperty("zmax").GetDouble());
        var e = Assert.Throws<ArgumentException>(() => Charts.DigitGrid([new float[27 * 28]]));
        Assert.Contains("756 pixels", e.Message);
        Assert.Throws<ArgumentException>(() => Charts.DigitGrid([a, b], ["only one caption"]));
        Assert.Throws<ArgumentException>(() => Charts.DigitGrid(Array.Empty<float[]>()));
    }

    [Fact]
    public void TheGridsJsonHoldsEveryPoint()
    {
        // How fast this is belongs in a benchmark; here only what it holds.
        int length = Charts.LearningRateGrid(Sweep(), logY: true).ToJson().Length;
        Assert.True(length > 6 * 181 * 2 * 4, $"JSON of {length} characters is too short for 6 × 181 points");
    }
}
