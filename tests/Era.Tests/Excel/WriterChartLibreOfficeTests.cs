using System.Xml.Linq;
using Era.Backprop;
using Era.Excel.Writing;

namespace Era.Tests.Excel;

/// <summary>
/// The workbook's charts the way a student opening it in LibreOffice sees them: LibreOffice converts the workbook to
/// flat OpenDocument XML, which states how it drew each chart. Before explicit line properties every series came out
/// `draw:stroke="none"` (no line at all), and the x axis labelled every iteration.
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
}
