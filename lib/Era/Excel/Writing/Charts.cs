using System.Globalization;
using DocumentFormat.OpenXml.Packaging;
using A = DocumentFormat.OpenXml.Drawing;
using C = DocumentFormat.OpenXml.Drawing.Charts;
using Xdr = DocumentFormat.OpenXml.Drawing.Spreadsheet;

namespace Era.Excel.Writing;

/// <summary>One line of a chart: its name and values as cell ranges, plus the values now (what viewers draw before recalculating).</summary>
internal sealed record ChartSeries(string NameRef, string Name, string ValuesRef, IReadOnlyList<double> Values);

/// <summary>Where a chart sits: the cells of its top-left and bottom-right corners (0-based column and row).</summary>
internal readonly record struct ChartPlace(int FromColumn, int FromRow, int ToColumn, int ToRow);

/// <summary>A native Excel chart of lines (c:scatterChart with lines in a ChartPart, anchored by a DrawingsPart) of series drawn from cell ranges.</summary>
internal static class Charts
{
    private const uint CategoryAxisId = 500_001;
    private const uint ValueAxisId = 500_002;

    /// <summary>Line colours, one a series in turn (a colour-blind-safe set: Okabe & Ito).</summary>
    public static readonly string[] Palette = ["0072B2", "E69F00", "009E73", "D55E00", "CC79A7", "56B4E9", "F0E442", "000000"];

    /// <summary>
    /// Adds the sheet's drawing with one chart of lines; returns the drawing's relationship id for the worksheet.
    /// A scatter chart with straight lines and no markers, so the x axis is a number axis: spreadsheets label it
    /// 0, 20, 40, … by themselves (a category axis labels every iteration, and LibreOffice ignores tickLblSkip).
    /// Each series states its line and colour: without them (and without a theme) LibreOffice draws no line at all.
    /// </summary>
    /// <param name="categoriesRef">x values (iteration numbers) as a range, or null for 1, 2, 3, … written as literals</param>
    public static string AddLineChart(
        WorksheetPart sheet, ChartPlace place, string title, string xTitle, string yTitle,
        string? categoriesRef, IReadOnlyList<double>? categories, IReadOnlyList<ChartSeries> series)
    {
        var drawings = sheet.AddNewPart<DrawingsPart>();
        var chartPart = drawings.AddNewPart<ChartPart>();

        var scatter = new C.ScatterChart(
            new C.ScatterStyle { Val = C.ScatterStyleValues.LineMarker },
            new C.VaryColors { Val = false });
        int points = series.Count == 0 ? 0 : series.Max(s => s.Values.Count);
        for (int s = 0; s < series.Count; s++)
        {
            var ser = new C.ScatterChartSeries(
                new C.Index { Val = (uint)s },
                new C.Order { Val = (uint)s },
                new C.SeriesText(new C.StringReference(
                    new C.Formula(series[s].NameRef),
                    new C.StringCache(new C.PointCount { Val = 1 }, new C.StringPoint(new C.NumericValue(series[s].Name)) { Index = 0 }))),
                Line(Palette[s % Palette.Length]),
                new C.Marker(new C.Symbol { Val = C.MarkerStyleValues.None }));
            var xs = categories ?? Enumerable.Range(1, series[s].Values.Count).Select(k => (double)k).ToList();
            ser.Append(categoriesRef is not null
                ? new C.XValues(Numbers(categoriesRef, xs))
                : new C.XValues(Literal(xs)));
            ser.Append(new C.YValues(Numbers(series[s].ValuesRef, series[s].Values)), new C.Smooth { Val = false });
            scatter.Append(ser);
        }
        scatter.Append(
            new C.AxisId { Val = CategoryAxisId },
            new C.AxisId { Val = ValueAxisId });

        var xAxis = new C.ValueAxis(
            new C.AxisId { Val = CategoryAxisId },
            new C.Scaling(
                new C.Orientation { Val = C.OrientationValues.MinMax },
                new C.MaxAxisValue { Val = Math.Max(points, 2) },
                new C.MinAxisValue { Val = 0 }),
            new C.Delete { Val = false },
            new C.AxisPosition { Val = C.AxisPositionValues.Bottom },
            Title(xTitle),
            new C.NumberingFormat { FormatCode = "0", SourceLinked = false },
            new C.MajorTickMark { Val = C.TickMarkValues.Outside },
            new C.MinorTickMark { Val = C.TickMarkValues.None },
            new C.TickLabelPosition { Val = C.TickLabelPositionValues.Low },
            new C.CrossingAxis { Val = ValueAxisId },
            new C.Crosses { Val = C.CrossesValues.AutoZero },
            new C.CrossBetween { Val = C.CrossBetweenValues.MidpointCategory },
            new C.MajorUnit { Val = NiceStep(points) });
        var valueAxis = new C.ValueAxis(
            new C.AxisId { Val = ValueAxisId },
            new C.Scaling(new C.Orientation { Val = C.OrientationValues.MinMax }),
            new C.Delete { Val = false },
            new C.AxisPosition { Val = C.AxisPositionValues.Left },
            new C.MajorGridlines(),
            Title(yTitle),
            new C.NumberingFormat { FormatCode = "General", SourceLinked = false },
            new C.MajorTickMark { Val = C.TickMarkValues.Outside },
            new C.MinorTickMark { Val = C.TickMarkValues.None },
            new C.TickLabelPosition { Val = C.TickLabelPositionValues.NextTo },
            new C.CrossingAxis { Val = CategoryAxisId },
            new C.Crosses { Val = C.CrossesValues.AutoZero },
            new C.CrossBetween { Val = C.CrossBetweenValues.MidpointCategory });
        chartPart.ChartSpace = new C.ChartSpace(
            new C.Date1904 { Val = false },
            new C.RoundedCorners { Val = false },
            new C.Chart(
                Title(title),
                new C.AutoTitleDeleted { Val = false },
                new C.PlotArea(new C.Layout(), scatter, xAxis, valueAxis),
                new C.Legend(new C.LegendPosition { Val = C.LegendPositionValues.Right }, new C.Overlay { Val = false }),
                new C.PlotVisibleOnly { Val = true },
                new C.DisplayBlanksAs { Val = C.DisplayBlanksAsValues.Gap }));
        chartPart.ChartSpace.AddNamespaceDeclaration("c", "http://schemas.openxmlformats.org/drawingml/2006/chart");
        chartPart.ChartSpace.AddNamespaceDeclaration("a", "http://schemas.openxmlformats.org/drawingml/2006/main");
        chartPart.ChartSpace.AddNamespaceDeclaration("r", "http://schemas.openxmlformats.org/officeDocument/2006/relationships");

        drawings.WorksheetDrawing = new Xdr.WorksheetDrawing(
            new Xdr.TwoCellAnchor(
                Marker(new Xdr.FromMarker(), place.FromColumn, place.FromRow),
                Marker(new Xdr.ToMarker(), place.ToColumn, place.ToRow),
                new Xdr.GraphicFrame(
                    new Xdr.NonVisualGraphicFrameProperties(
                        new Xdr.NonVisualDrawingProperties { Id = 2, Name = title },
                        new Xdr.NonVisualGraphicFrameDrawingProperties()),
                    new Xdr.Transform(new A.Offset { X = 0, Y = 0 }, new A.Extents { Cx = 0, Cy = 0 }),
                    new A.Graphic(new A.GraphicData(new C.ChartReference { Id = drawings.GetIdOfPart(chartPart) })
                    {
                        Uri = "http://schemas.openxmlformats.org/drawingml/2006/chart",
                    }))
                { Macro = "" },
                new Xdr.ClientData()));
        drawings.WorksheetDrawing.AddNamespaceDeclaration("xdr", "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing");
        drawings.WorksheetDrawing.AddNamespaceDeclaration("a", "http://schemas.openxmlformats.org/drawingml/2006/main");

        return sheet.GetIdOfPart(drawings);
    }

    private static C.NumberReference Numbers(string reference, IReadOnlyList<double> values)
    {
        var cache = new C.NumberingCache(new C.FormatCode("General"), new C.PointCount { Val = (uint)values.Count });
        for (int i = 0; i < values.Count; i++)
        {
            if (!double.IsFinite(values[i])) continue; // a gap, as for an error cell
            cache.Append(new C.NumericPoint(new C.NumericValue(values[i].ToString("R", CultureInfo.InvariantCulture))) { Index = (uint)i });
        }
        return new C.NumberReference(new C.Formula(reference), cache);
    }

    /// <summary>A series' line: 2.25 pt, solid, in <paramref name="rgb"/>.</summary>
    private static C.ChartShapeProperties Line(string rgb) => new(
        new A.Outline(new A.SolidFill(new A.RgbColorModelHex { Val = rgb }), new A.PresetDash { Val = A.PresetLineDashValues.Solid })
        {
            Width = 28575,
            CapType = A.LineCapValues.Round,
        });

    /// <summary>x values written into the chart itself (no cells hold them): 1, 2, 3, …</summary>
    private static C.NumberLiteral Literal(IReadOnlyList<double> values)
    {
        var literal = new C.NumberLiteral(new C.FormatCode("General"), new C.PointCount { Val = (uint)values.Count });
        for (int i = 0; i < values.Count; i++)
            literal.Append(new C.NumericPoint(new C.NumericValue(values[i].ToString("R", CultureInfo.InvariantCulture))) { Index = (uint)i });
        return literal;
    }

    /// <summary>A round step (1, 2 or 5 × 10^k) that gives about ten labels from 0 to <paramref name="points"/>:
    /// 20 for the course's 181 iterations.</summary>
    internal static double NiceStep(int points)
    {
        double raw = Math.Max(points, 2) / 10.0;
        double power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double m = raw / power;
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
    }

    private static C.Title Title(string text) => new(
        new C.ChartText(new C.RichText(
            new A.BodyProperties(),
            new A.ListStyle(),
            new A.Paragraph(new A.Run(new A.RunProperties { Language = "en-US" }, new A.Text(text))))),
        new C.Overlay { Val = false });

    private static T Marker<T>(T marker, int column, int row) where T : DocumentFormat.OpenXml.OpenXmlCompositeElement
    {
        marker.Append(
            new Xdr.ColumnId(column.ToString(CultureInfo.InvariantCulture)),
            new Xdr.ColumnOffset("0"),
            new Xdr.RowId(row.ToString(CultureInfo.InvariantCulture)),
            new Xdr.RowOffset("0"));
        return marker;
    }
}
