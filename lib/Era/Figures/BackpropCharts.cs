using System.Globalization;
using Era.Backprop;

namespace Era.Figures;

/// <summary>The course's figures, built from plain results (tables, arrays): no dependency on how they were computed.</summary>
public static partial class Charts
{
    /// <summary>
    /// E_total against iteration, one line per learning rate, on one chart: the faster η falls, the sooner E_total
    /// flattens. <paramref name="logY"/> puts E_total on a log axis, where the late, slow part of training is visible.
    /// </summary>
    public static Figure LearningRates(IReadOnlyList<IterationTable> tables, bool logY = false)
    {
        RequireTables(tables);
        var fig = new Figure { Layout = { Title = new Title($"E_total vs iteration{LogNote(logY)}, {Targets(tables[0].Config)}"), Width = 800, Height = 500 } };
        foreach (var t in tables)
            fig.Data.Add(LossLine(t));
        var x = fig.Layout.X(1);
        x.Title = new Title("iteration");
        var y = fig.Layout.Y(1);
        y.Title = new Title("E_total");
        if (logY) y.Type = "log";
        fig.Layout.Legend = new Legend { Title = new Title("learning rate") };
        return fig;
    }

    /// <summary>
    /// Small multiples: one chart per learning rate in a grid (2 × 3 for the course's six rates), each on its own
    /// scale so the shape of every curve is visible.
    /// </summary>
    public static Figure LearningRateGrid(IReadOnlyList<IterationTable> tables, bool logY = false, int columns = 3)
    {
        RequireTables(tables);
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be ≥ 1");
        int n = tables.Count;
        columns = Math.Min(columns, n);
        int rows = (n + columns - 1) / columns;
        var fig = new Figure
        {
            Layout =
            {
                Title = new Title($"E_total vs iteration{LogNote(logY)}, one chart per learning rate, {Targets(tables[0].Config)}"),
                Width = 330 * columns + 80,
                Height = 280 * rows + 100,
                ShowLegend = false,
                Annotations = [],
            },
        };
        for (int k = 1; k <= n; k++)
        {
            var line = LossLine(tables[k - 1]);
            (line.XAxis, line.YAxis) = Subplots.AxisIds(k);
            fig.Data.Add(line);
            var (x, y) = Subplots.Place(fig.Layout, k, rows, columns, xGap: 0.07, yGap: Math.Min(0.16, 0.3 / rows));
            // Axis titles only on the outer edge of the grid: "iteration" under the bottom chart of each column.
            if (k + columns > n) x.Title = new Title("iteration");
            if ((k - 1) % columns == 0) y.Title = new Title("E_total");
            if (logY)
            {
                // A small panel on a log axis otherwise labels every minor digit (2, 3, 4, … 9) and they run together.
                y.Type = "log";
                y.NTicks = 4;
                y.TickFormat = ".2~g";
            }
            fig.Layout.Annotations.Add(Subplots.Title(fig.Layout, k, line.Name!));
        }
        return fig;
    }

    private static Scatter LossLine(IterationTable table) => new()
    {
        Name = $"η = {Number(table.LearningRate)}",
        Mode = "lines",
        X = table.Rows.Select(r => (double)r.Iteration).ToArray(),
        Y = table.Losses(),
        HoverTemplate = "iteration %{x}<br>E_total %{y:.6g}",
    };

    private static void RequireTables(IReadOnlyList<IterationTable> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (tables.Count == 0) throw new ArgumentException("need at least one learning rate's table", nameof(tables));
    }

    private static string LogNote(bool logY) => logY ? " (E_total on a log axis)" : "";

    private static string Targets(NetworkConfig c) => $"targets t1 = {Number(c.T1)}, t2 = {Number(c.T2)}";

    /// <summary>Short, culture-independent number text for labels: 4 significant digits.</summary>
    internal static string Number(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>
    /// The 2-2-2 network as a diagram: inputs, hidden and output units as circles, one edge per weight labelled with
    /// its value (w1..w8, as in the course's naming), the inputs' values and the targets beside them, and the fixed
    /// biases b1 and b2 as dashed edges when the network has them. <paramref name="weights"/> defaults to the
    /// config's initial weights; pass a table row's weights to show them later in training.
    /// </summary>
    public static Figure Network(NetworkConfig config, Weights? weights = null, string? title = null)
    {
        var w = weights ?? config.Weights;
        // Unit positions: one column per layer, the "1" unit of each layer on top.
        var units = new (string Name, double X, double Y, string Layer)[]
        {
            ("i1", 0, 1, "inputs"), ("i2", 0, 0, "inputs"),
            ("h1", 1, 1, "hidden"), ("h2", 1, 0, "hidden"),
            ("o1", 2, 1, "outputs"), ("o2", 2, 0, "outputs"),
        };
        var colors = new Dictionary<string, string> { ["inputs"] = "#9ecae1", ["hidden"] = "#a1d99b", ["outputs"] = "#fdae6b" };
        (double X, double Y) At(string name) { var u = units.First(u => u.Name == name); return (u.X, u.Y); }

        var fig = new Figure
        {
            Layout =
            {
                Title = new Title(title ?? $"2-2-2 network: inputs ({Number(config.I1)}, {Number(config.I2)}), {Targets(config)}"),
                Width = 800,
                Height = 520,
                ShowLegend = false,
                XAxis = new Axis { Visible = false, Range = [-0.55, 2.65] },
                YAxis = new Axis { Visible = false, Range = [-0.3, config.HasBiases ? 1.55 : 1.3] },
                Shapes = [],
                Annotations = [],
                PlotBackgroundColor = "white",
            },
        };
        var shapes = fig.Layout.Shapes;
        var notes = fig.Layout.Annotations;

        // w1: i1→h1, w2: i2→h1, w3: i1→h2, w4: i2→h2 (h1 = w1·i1 + w2·i2, h2 = w3·i1 + w4·i2);
        // w5: h1→o1, w6: h2→o1, w7: h1→o2, w8: h2→o2 (o1 = w5·a_h1 + w6·a_h2, o2 = w7·a_h1 + w8·a_h2).
        var edges = new (string From, string To)[]
        {
            ("i1", "h1"), ("i2", "h1"), ("i1", "h2"), ("i2", "h2"),
            ("h1", "o1"), ("h2", "o1"), ("h1", "o2"), ("h2", "o2"),
        };
        for (int k = 1; k <= Weights.Count; k++)
        {
            var (a, b) = (At(edges[k - 1].From), At(edges[k - 1].To));
            shapes.Add(new Shape { Type = "line", X0 = a.X, Y0 = a.Y, X1 = b.X, Y1 = b.Y, Layer = "below", Line = new Line { Color = "#888", Width = 2 } });
            // 35% of the way along the edge: the two crossing edges' labels do not meet at the crossing.
            const double f = 0.35;
            notes.Add(new Annotation
            {
                Text = $"w{k} = {Number(w[k])}",
                X = a.X + f * (b.X - a.X),
                Y = a.Y + f * (b.Y - a.Y),
                ShowArrow = false,
                BackgroundColor = "white",
                Font = new Font { Size = 13 },
            });
        }

        // One trace per layer, each in its own color.
        foreach (var layer in units.GroupBy(u => u.Layer))
        {
            fig.Data.Add(new Scatter
            {
                Name = layer.Key,
                Mode = "markers+text",
                X = layer.Select(u => u.X).ToArray(),
                Y = layer.Select(u => u.Y).ToArray(),
                Text = layer.Select(u => u.Name).ToArray(),
                TextPosition = "middle center",
                TextFont = new Font { Size = 16 },
                Marker = new Marker { Size = 48, Color = colors[layer.Key], Line = new Line { Color = "#444", Width = 1.5 } },
                HoverInfo = "text",
            });
        }

        // Input values on the left, targets on the right.
        notes.Add(Side($"i1 = {Number(config.I1)}", -0.15, 1, "right"));
        notes.Add(Side($"i2 = {Number(config.I2)}", -0.15, 0, "right"));
        notes.Add(Side($"t1 = {Number(config.T1)}", 2.15, 1, "left"));
        notes.Add(Side($"t2 = {Number(config.T2)}", 2.15, 0, "left"));

        if (config.HasBiases)
        {
            // Fixed biases: b1 is added to h1 and h2, b2 to o1 and o2.
            var biases = new (string Name, double Value, double X, string[] To)[]
            {
                ("b1", config.B1, 0.5, ["h1", "h2"]),
                ("b2", config.B2, 1.5, ["o1", "o2"]),
            };
            foreach (var bias in biases)
            {
                foreach (var to in bias.To)
                {
                    var b = At(to);
                    shapes.Add(new Shape { Type = "line", X0 = bias.X, Y0 = 1.4, X1 = b.X, Y1 = b.Y, Layer = "below", Line = new Line { Color = "#bbb", Width = 1.5, Dash = "dash" } });
                }
                notes.Add(new Annotation { Text = $"{bias.Name} = {Number(bias.Value)}", X = bias.X, Y = 1.45, YAnchor = "bottom", ShowArrow = false, Font = new Font { Size = 13 } });
            }
            fig.Data.Add(new Scatter
            {
                Name = "biases",
                Mode = "markers",
                X = biases.Select(b => b.X).ToArray(),
                Y = biases.Select(_ => 1.4).ToArray(),
                Text = biases.Select(b => b.Name).ToArray(),
                Marker = new Marker { Size = 12, Color = "#ddd", Line = new Line { Color = "#444", Width = 1 } },
                HoverInfo = "text",
            });
        }
        return fig;
    }

    private static Annotation Side(string text, double x, double y, string anchor) =>
        new() { Text = text, X = x, Y = y, XAnchor = anchor, ShowArrow = false, Font = new Font { Size = 14 } };
}
