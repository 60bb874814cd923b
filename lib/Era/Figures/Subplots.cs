namespace Era.Figures;

/// <summary>
/// Lays out small multiples: subplot k (1-based, row by row from the top left) of a rows × columns grid gets its own
/// x/y axis pair (xaxis k, yaxis k) with a <c>domain</c> — the fraction of the figure it occupies.
/// </summary>
internal static class Subplots
{
    /// <summary>"x"/"y" for subplot 1, "x2"/"y2" for subplot 2, ...: the names traces use in their xaxis/yaxis.</summary>
    public static (string X, string Y) AxisIds(int k) => k == 1 ? ("x", "y") : ($"x{k}", $"y{k}");

    /// <summary>Sets the domains and anchors of subplot k's axes and returns them.</summary>
    public static (Axis X, Axis Y) Place(Layout layout, int k, int rows, int columns, double xGap = 0.06, double yGap = 0.12)
    {
        if (k < 1 || k > rows * columns) throw new ArgumentOutOfRangeException(nameof(k), k, $"a {rows}×{columns} grid has subplots 1..{rows * columns}");
        int row = (k - 1) / columns, column = (k - 1) % columns;
        double width = (1 - (columns - 1) * xGap) / columns;
        double height = (1 - (rows - 1) * yGap) / rows;
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"a {rows}×{columns} grid with gaps {xGap}, {yGap} leaves no room for the subplots");
        double x0 = column * (width + xGap);
        double y1 = 1 - row * (height + yGap);
        var (xId, yId) = AxisIds(k);
        var x = layout.X(k);
        var y = layout.Y(k);
        // Clamped and rounded: plotly.js rejects a domain end of 1.0000000000000002.
        x.Domain = [Fraction(x0), Fraction(x0 + width)];
        y.Domain = [Fraction(y1 - height), Fraction(y1)];
        x.Anchor = yId;
        y.Anchor = xId;
        return (x, y);
    }

    /// <summary>A title centered just above subplot k (its axes must have been placed).</summary>
    public static Annotation Title(Layout layout, int k, string text)
    {
        var x = layout.X(k).Domain!;
        var y = layout.Y(k).Domain!;
        return new Annotation
        {
            Text = text,
            X = (x[0] + x[1]) / 2,
            Y = y[1],
            XRef = "paper",
            YRef = "paper",
            XAnchor = "center",
            YAnchor = "bottom",
            ShowArrow = false,
            Font = new Font { Size = 14 },
        };
    }

    private static double Fraction(double v) => Math.Round(Math.Clamp(v, 0, 1), 6);
}
