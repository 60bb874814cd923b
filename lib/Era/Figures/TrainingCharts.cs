using System.Globalization;

namespace Era.Figures;

/// <summary>
/// What a training run measured, one entry per epoch. Accuracies are fractions in [0, 1]. A list nobody measured
/// (say, no test set) may be left empty; the others must have one value per epoch.
/// </summary>
public sealed record TrainingHistory(
    IReadOnlyList<double> TrainLoss,
    IReadOnlyList<double> TestLoss,
    IReadOnlyList<double> TrainAccuracy,
    IReadOnlyList<double> TestAccuracy)
{
    public int Epochs => TrainLoss.Count;

    public void Validate()
    {
        if (TrainLoss.Count == 0) throw new ArgumentException("training history has no epochs (TrainLoss is empty)");
        foreach (var (name, list) in new[] { ("TestLoss", TestLoss), ("TrainAccuracy", TrainAccuracy), ("TestAccuracy", TestAccuracy) })
            if (list.Count != 0 && list.Count != Epochs)
                throw new ArgumentException($"{name} has {list.Count} values but TrainLoss has {Epochs} epochs (give one per epoch, or none)");
        foreach (var (name, list) in new[] { ("TrainAccuracy", TrainAccuracy), ("TestAccuracy", TestAccuracy) })
            for (int i = 0; i < list.Count; i++)
                if (!(list[i] >= 0 && list[i] <= 1))
                    throw new ArgumentException($"{name}[{i}] = {list[i].ToString(CultureInfo.InvariantCulture)} is not a fraction in [0, 1]");
    }
}

public static partial class Charts
{
    private const string TrainColor = "#1f77b4", TestColor = "#ff7f0e";

    /// <summary>
    /// Loss (left) and accuracy (right) per epoch, train and test: test loss rising while train loss falls is overfitting.
    /// </summary>
    public static Figure TrainingCurves(TrainingHistory history, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        history.Validate();
        var epochs = Enumerable.Range(1, history.Epochs).Select(e => (double)e).ToArray();
        var fig = new Figure
        {
            Layout =
            {
                Title = new Title(title ?? "Training curves"),
                Width = 1000,
                Height = 420,
                Annotations = [],
                Legend = new Legend { Orientation = "h", X = 0.5, XAnchor = "center", Y = -0.2, YAnchor = "top" },
            },
        };
        var panels = new (string Title, string YTitle, IReadOnlyList<double> Train, IReadOnlyList<double> Test, string? TickFormat)[]
        {
            ("loss", "loss", history.TrainLoss, history.TestLoss, null),
            ("accuracy", "accuracy", history.TrainAccuracy, history.TestAccuracy, ".1%"),
        };
        for (int k = 1; k <= panels.Length; k++)
        {
            var p = panels[k - 1];
            var (x, y) = Subplots.Place(fig.Layout, k, rows: 1, columns: 2, xGap: 0.1);
            x.Title = new Title("epoch");
            y.Title = new Title(p.YTitle);
            y.TickFormat = p.TickFormat;
            fig.Layout.Annotations.Add(Subplots.Title(fig.Layout, k, p.Title));
            var (xId, yId) = Subplots.AxisIds(k);
            foreach (var (split, values, color) in new[] { ("train", p.Train, TrainColor), ("test", p.Test, TestColor) })
            {
                if (values.Count == 0) continue;
                fig.Data.Add(new Scatter
                {
                    Name = $"{split} {p.Title}",
                    Mode = epochs.Length == 1 ? "markers" : "lines+markers",
                    X = epochs,
                    Y = values.ToArray(),
                    XAxis = xId,
                    YAxis = yId,
                    Line = new Line { Color = color },
                    Marker = new Marker { Color = color, Size = 5 },
                });
            }
        }
        return fig;
    }

    /// <summary>
    /// A confusion matrix as an annotated heatmap: row = true class, column = predicted class, each cell its count.
    /// The diagonal holds the correct predictions; the title gives the accuracy (diagonal / all).
    /// </summary>
    public static Figure ConfusionMatrix(int[,] counts, IReadOnlyList<string>? labels = null, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(counts);
        int n = counts.GetLength(0);
        if (n == 0 || counts.GetLength(1) != n)
            throw new ArgumentException($"a confusion matrix is square with at least one class, got {counts.GetLength(0)}×{counts.GetLength(1)}", nameof(counts));
        labels ??= Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} classes", nameof(labels));
        long total = 0, correct = 0;
        var z = new double[n][];
        var text = new string[n][];
        for (int i = 0; i < n; i++)
        {
            z[i] = new double[n];
            text[i] = new string[n];
            for (int j = 0; j < n; j++)
            {
                int c = counts[i, j];
                if (c < 0) throw new ArgumentException($"count [{i},{j}] = {c} is negative", nameof(counts));
                z[i][j] = c;
                text[i][j] = c.ToString(CultureInfo.InvariantCulture);
                total += c;
                if (i == j) correct += c;
            }
        }
        string accuracy = total == 0 ? "no samples" :
            $"accuracy {(100.0 * correct / total).ToString("0.00", CultureInfo.InvariantCulture)}% of {total.ToString(CultureInfo.InvariantCulture)}";
        return new Figure
        {
            Data =
            [
                new Heatmap
                {
                    Name = "confusion matrix",
                    Z = z,
                    X = labels,
                    Y = labels,
                    Text = text,
                    TextTemplate = "%{text}",
                    ColorScale = "Blues",
                    ReverseScale = true,  // plotly.js's Blues runs dark to light: few = light, many = dark
                    HoverTemplate = "true %{y}, predicted %{x}: %{z}<extra></extra>",
                    XGap = 1,
                    YGap = 1,
                },
            ],
            Layout =
            {
                Title = new Title(title ?? $"Confusion matrix: {accuracy}"),
                Width = 640,
                Height = 600,
                XAxis = new Axis { Title = new Title("predicted"), Type = "category" },
                // Row 0 at the top, as the matrix is written; square cells.
                YAxis = new Axis { Title = new Title("true"), Type = "category", AutoRange = "reversed", ScaleAnchor = "x" },
            },
        };
    }

    /// <summary>The caption the course puts under a classified digit: "true 7 / predicted 1".</summary>
    public static string DigitCaption(int trueLabel, int predicted) =>
        string.Create(CultureInfo.InvariantCulture, $"true {trueLabel} / predicted {predicted}");

    /// <summary>
    /// A grid of grayscale images (e.g. 28 × 28 MNIST digits, row-major pixels), each with an optional caption above
    /// it. The gray scale spans the smallest to the largest pixel value over all images, so normalized inputs work too.
    /// </summary>
    public static Figure DigitGrid(IReadOnlyList<float[]> images, IReadOnlyList<string>? captions = null, int columns = 8, int imageWidth = 28, int imageHeight = 28)
    {
        ArgumentNullException.ThrowIfNull(images);
        var pixels = images.Select(im => (IReadOnlyList<double>)Array.ConvertAll(im ?? throw new ArgumentException("an image is null", nameof(images)), v => (double)v)).ToList();
        return ImageGrid(pixels, captions, columns, imageWidth, imageHeight, null);
    }

    /// <summary>As <see cref="DigitGrid(IReadOnlyList{float[]}, IReadOnlyList{string}?, int, int, int)"/> for 0..255 byte pixels (the MNIST files' format).</summary>
    public static Figure DigitGrid(IReadOnlyList<byte[]> images, IReadOnlyList<string>? captions = null, int columns = 8, int imageWidth = 28, int imageHeight = 28)
    {
        ArgumentNullException.ThrowIfNull(images);
        var pixels = images.Select(im => (IReadOnlyList<double>)Array.ConvertAll(im ?? throw new ArgumentException("an image is null", nameof(images)), v => (double)v)).ToList();
        return ImageGrid(pixels, captions, columns, imageWidth, imageHeight, (0, 255));
    }

    private static Figure ImageGrid(List<IReadOnlyList<double>> images, IReadOnlyList<string>? captions, int columns, int w, int h, (double Min, double Max)? scale)
    {
        if (images.Count == 0) throw new ArgumentException("no images to show", nameof(images));
        if (w < 1 || h < 1) throw new ArgumentException($"image size must be positive, got {w}×{h}");
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be ≥ 1");
        if (captions is not null && captions.Count != images.Count)
            throw new ArgumentException($"{captions.Count} captions for {images.Count} images", nameof(captions));
        for (int i = 0; i < images.Count; i++)
            if (images[i].Count != w * h)
                throw new ArgumentException($"image {i} has {images[i].Count} pixels, expected {w}×{h} = {w * h}", nameof(images));

        var (min, max) = scale ?? (images.Min(im => im.Min()), images.Max(im => im.Max()));
        if (!double.IsFinite(min) || !double.IsFinite(max)) throw new ArgumentException("pixel values must be finite", nameof(images));
        if (max <= min) max = min + 1;

        int n = images.Count;
        columns = Math.Min(columns, n);
        int rows = (n + columns - 1) / columns;
        var fig = new Figure
        {
            Layout =
            {
                Width = 140 * columns + 40,
                Height = 140 * rows + 60,
                ShowLegend = false,
                Margin = new Margin { Left = 20, Right = 20, Top = 40, Bottom = 20 },
                Annotations = [],
            },
        };
        for (int k = 1; k <= n; k++)
        {
            var im = images[k - 1];
            var z = new double[h][];
            for (int r = 0; r < h; r++)
            {
                z[r] = new double[w];
                for (int c = 0; c < w; c++) z[r][c] = im[r * w + c];
            }
            var (xId, yId) = Subplots.AxisIds(k);
            fig.Data.Add(new Heatmap
            {
                Name = captions?[k - 1] ?? $"image {k}",
                Z = z,
                XAxis = xId,
                YAxis = yId,
                ColorScale = "Greys",
                ZMin = min,
                ZMax = max,
                ShowScale = false,
                HoverTemplate = "row %{y}, column %{x}: %{z}<extra></extra>",
            });
            var (x, y) = Subplots.Place(fig.Layout, k, rows, columns, xGap: 0.02, yGap: 0.3 / rows);
            x.Visible = false;
            y.Visible = false;
            y.AutoRange = "reversed";  // pixel row 0 at the top
            y.ScaleAnchor = xId;       // square pixels
            if (captions is not null) fig.Layout.Annotations.Add(Subplots.Title(fig.Layout, k, captions[k - 1]));
        }
        return fig;
    }
}
