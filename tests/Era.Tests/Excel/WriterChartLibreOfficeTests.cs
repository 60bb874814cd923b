using System.Diagnostics;
using System.Xml.Linq;
using Era.Backprop;
using Era.Excel.Writing;

namespace Era.Tests.Excel;

/// <summary>
/// The workbook's charts the way a student opening it in LibreOffice sees them: LibreOffice converts the workbook to
/// flat OpenDocument XML, which states how it drew each chart. Before explicit line properties every series came out
/// `draw:stroke="none"` (no line at all), and the x axis labelled every iteration. And as they print: LibreOffice's own
/// PDF export, every page rendered to pixels by poppler's pdftoppm, each chart found by the colours of its lines; a
/// chart is whole when its lines appear on one page only, well inside the page's edges (before the page set-up, the
/// E_total chart ran over two pages, cut at the page edge, and the learning-rate chart was split across two).
/// </summary>
[Collection(ExcelWriterCollection.Name)]
public sealed class WriterChartLibreOfficeTests : IDisposable
{
    private static readonly XNamespace Draw = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0";
    private static readonly XNamespace Chart = "urn:oasis:names:tc:opendocument:xmlns:chart:1.0";
    private static readonly XNamespace Style = "urn:oasis:names:tc:opendocument:xmlns:style:1.0";
    private static readonly XNamespace Svg = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0";

    private readonly string _dir = Directory.CreateTempSubdirectory("era-chart-lo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EverySeriesIsDrawnWithAColouredLineAndTheXAxisIsLabelledInRoundSteps()
    {
        string book = Path.Combine(_dir, "course.xlsx");
        BackpropWorkbook.WriteFile(book, NetworkConfig.Classic, IterationTable.DefaultIterations);
        string fods = LibreOffice.Convert(Path.Combine(_dir, "lo"), "fods", book).Single();
        var doc = XDocument.Load(fods);

        // Each chart is an embedded document (draw:object) with its own automatic styles.
        var charts = doc.Descendants(Draw + "object").Where(o => o.Descendants(Chart + "chart").Any()).ToList();
        Assert.Equal(2, charts.Count); // Table: E_total; Compare: one line per learning rate
        var seriesPerChart = new List<int>();
        foreach (var chart in charts)
        {
            var styles = chart.Descendants(Style + "style").ToDictionary(s => (string)s.Attribute(Style + "name")!, s => s);
            var series = chart.Descendants(Chart + "series").ToList();
            seriesPerChart.Add(series.Count);
            var colours = new List<string>();
            foreach (var s in series)
            {
                var graphic = styles[(string)s.Attribute(Chart + "style-name")!].Element(Style + "graphic-properties");
                string range = (string?)s.Attribute(Chart + "values-cell-range-address") ?? "?";
                Assert.NotNull(graphic);
                Assert.NotEqual("none", (string?)graphic.Attribute(Draw + "stroke"));
                string? colour = (string?)graphic.Attribute(Svg + "stroke-color");
                Assert.False(colour is null, $"series {range} has no line colour");
                colours.Add(colour);
                Assert.StartsWith("0.0", (string?)graphic.Attribute(Svg + "stroke-width") ?? "", StringComparison.Ordinal); // a visible width in cm
            }
            Assert.Equal(colours.Count, colours.Distinct().Count()); // lines told apart by colour

            // The x axis: numbers from 0 to the last iteration, a label every 20 iterations (not 181 labels run together).
            var xAxis = chart.Descendants(Chart + "axis").Single(a => (string?)a.Attribute(Chart + "dimension") == "x");
            var props = styles[(string)xAxis.Attribute(Chart + "style-name")!].Element(Style + "chart-properties")!;
            Assert.Equal("20", (string?)props.Attribute(Chart + "interval-major"));
            Assert.Equal("181", (string?)props.Attribute(Chart + "maximum"));
        }
        Assert.Equal([1, LearningRateSweep.DefaultRates.Count], seriesPerChart);
    }

    public const string PdftoppmHint = "pdftoppm (poppler) is needed to render the workbook's PDF: apt-get install poppler-utils (or run ./era setup)";

    [Fact]
    public void EachChartPrintsWholeOnOnePage()
    {
        string book = Path.Combine(_dir, "course.xlsx");
        BackpropWorkbook.WriteFile(book, NetworkConfig.Classic, IterationTable.DefaultIterations);
        string pdf = LibreOffice.Convert(Path.Combine(_dir, "pdf"), "pdf", book).Single();
        var pages = Render(pdf, Path.Combine(_dir, "pages"));
        Assert.True(pages.Count > 10, $"{pages.Count} pages");

        // The Table chart has one line (the palette's first colour); the Compare chart one per learning rate.
        var compareColours = Charts.Palette.Skip(1).Take(LearningRateSweep.DefaultRates.Count - 1).ToList();
        var found = pages.Select(p => Charts.Palette.Take(LearningRateSweep.DefaultRates.Count).ToDictionary(c => c, c => p.Find(c))).ToList();
        string Where() => string.Join("; ", found.Select((f, i) => (f, i)).Where(x => x.f.Values.Any(b => b.Pixels > 0))
            .Select(x => $"page {x.i + 1}: " + string.Join(", ", x.f.Where(kv => kv.Value.Pixels > 0).Select(kv => $"{kv.Key} {kv.Value.Pixels} px"))));

        var comparePages = Enumerable.Range(0, pages.Count).Where(i => compareColours.Any(c => found[i][c].Seen)).ToList();
        Assert.True(comparePages.Count == 1, $"the learning-rate chart's lines are on pages {string.Join(", ", comparePages.Select(i => i + 1))}: {Where()}");
        int compare = comparePages[0];
        Assert.All(compareColours, c => Assert.True(found[compare][c].Seen, $"line {c} missing from the learning-rate chart's page: {Where()}"));

        var firstColour = Enumerable.Range(0, pages.Count).Where(i => found[i][Charts.Palette[0]].Seen).ToList();
        Assert.True(firstColour.Count == 2 && firstColour.Contains(compare),
            $"the E_total chart should be on one page and the learning-rate chart on another: {Where()}");
        int table = firstColour.Single(i => i != compare);

        foreach (var (page, colours) in new[] { (table, Charts.Palette.Take(1).ToList()), (compare, [Charts.Palette[0], .. compareColours]) })
        {
            var p = pages[page];
            var box = colours.Select(c => found[page][c]).Aggregate(Box.Union);
            // Well inside the page (a cut chart runs into the printable area's edge) and a whole curve wide.
            Assert.True(box.Left > p.Width / 20 && box.Right < p.Width - p.Width / 20 && box.Top > p.Height / 20 && box.Bottom < p.Height - p.Height / 20,
                $"page {page + 1} ({p.Width}×{p.Height}): the lines reach {box}, at the page's edge");
            Assert.True(box.Right - box.Left > p.Width / 3, $"page {page + 1}: the lines span {box.Right - box.Left} of {p.Width} pixels");
            Assert.True(p.Width > p.Height, $"page {page + 1} is portrait; the charts print landscape");
        }
    }

    /// <summary>The pixels of a colour on a page: how many, and the box around them.</summary>
    internal readonly record struct Box(int Pixels, int Left, int Top, int Right, int Bottom)
    {
        /// <summary>Enough pixels to be a line, not a stray blend of two others.</summary>
        public bool Seen => Pixels >= 50;

        public static Box Union(Box a, Box b) => new(a.Pixels + b.Pixels,
            Math.Min(a.Left, b.Left), Math.Min(a.Top, b.Top), Math.Max(a.Right, b.Right), Math.Max(a.Bottom, b.Bottom));

        public override string ToString() => $"x {Left}..{Right}, y {Top}..{Bottom}";
    }

    /// <summary>One page as pdftoppm's PPM (P6, 8-bit RGB).</summary>
    internal sealed record Page(int Width, int Height, byte[] Rgb)
    {
        public static Page Read(string path)
        {
            byte[] file = File.ReadAllBytes(path);
            int at = 0;
            string Token()
            {
                while (char.IsWhiteSpace((char)file[at])) at++;
                int start = at;
                while (!char.IsWhiteSpace((char)file[at])) at++;
                return System.Text.Encoding.ASCII.GetString(file, start, at - start);
            }
            if (Token() != "P6") throw new InvalidDataException($"{path}: not a binary PPM");
            int width = int.Parse(Token(), System.Globalization.CultureInfo.InvariantCulture);
            int height = int.Parse(Token(), System.Globalization.CultureInfo.InvariantCulture);
            if (Token() != "255") throw new InvalidDataException($"{path}: not 8-bit");
            at++; // the one whitespace byte before the pixels
            return new Page(width, height, file[at..(at + width * height * 3)]);
        }

        /// <summary>Pixels within 16 per channel of <paramref name="hex"/> (RRGGBB): a line's core, not its anti-aliased edge.</summary>
        public Box Find(string hex)
        {
            int r = Convert.ToInt32(hex[..2], 16), g = Convert.ToInt32(hex[2..4], 16), b = Convert.ToInt32(hex[4..], 16);
            int n = 0, left = int.MaxValue, top = int.MaxValue, right = -1, bottom = -1;
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    int i = (y * Width + x) * 3;
                    if (Math.Abs(Rgb[i] - r) > 16 || Math.Abs(Rgb[i + 1] - g) > 16 || Math.Abs(Rgb[i + 2] - b) > 16) continue;
                    n++;
                    left = Math.Min(left, x); right = Math.Max(right, x); top = Math.Min(top, y); bottom = Math.Max(bottom, y);
                }
            return new Box(n, left, top, right, bottom);
        }
    }

    /// <summary>Every page of <paramref name="pdf"/> at 40 dpi, in order.</summary>
    private static List<Page> Render(string pdf, string dir)
    {
        string pdftoppm = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "pdftoppm")).FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(PdftoppmHint);
        Directory.CreateDirectory(dir);
        var start = new ProcessStartInfo(pdftoppm) { RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "-r", "40", pdf, Path.Combine(dir, "page") }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"pdftoppm exited with {process.ExitCode}: {stderr}");
        // page-001.ppm … page-208.ppm: zero-padded, so name order is page order.
        return Directory.GetFiles(dir, "page-*.ppm").Order(StringComparer.Ordinal).Select(Page.Read).ToList();
    }
}
