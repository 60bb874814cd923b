using System.Text.Json;
using System.Text.Json.Serialization;

namespace Era.Figures;

// A small typed model of a plotly.js figure: only what the course's figures need. Every property carries the
// plotly.js attribute name it serializes to (https://plotly.com/javascript/reference/), so plotly's documentation
// applies as is. Unset (null) properties are left out of the JSON and plotly.js uses its defaults.

/// <summary>A plotly.js figure: <c>{ data: [traces], layout, config }</c>, as passed to <c>Plotly.newPlot</c>.</summary>
public sealed class Figure
{
    [JsonPropertyName("data")] public List<Trace> Data { get; set; } = [];
    [JsonPropertyName("layout")] public Layout Layout { get; set; } = new();
    [JsonPropertyName("config")] public Config? Config { get; set; }

    /// <summary>The figure as plotly.js JSON (attribute names as in plotly.js, nulls left out).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, FigureJsonContext.Default.Figure);
}

/// <summary>One trace of <c>data</c>. plotly.js picks the trace kind by its <c>type</c>.</summary>
[JsonDerivedType(typeof(Scatter))]
[JsonDerivedType(typeof(Bar))]
[JsonDerivedType(typeof(Heatmap))]
public abstract class Trace(string type)
{
    /// <summary>"scatter", "bar", "heatmap": fixed by the subclass.</summary>
    [JsonPropertyName("type")] public string Type { get; } = type;
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("showlegend")] public bool? ShowLegend { get; set; }
    [JsonPropertyName("legendgroup")] public string? LegendGroup { get; set; }

    /// <summary>The x axis this trace is drawn on: "x" (default), "x2", ... for subplots.</summary>
    [JsonPropertyName("xaxis")] public string? XAxis { get; set; }

    /// <summary>The y axis this trace is drawn on: "y" (default), "y2", ... for subplots.</summary>
    [JsonPropertyName("yaxis")] public string? YAxis { get; set; }

    [JsonPropertyName("hovertemplate")] public string? HoverTemplate { get; set; }
}

/// <summary>Points joined by lines and/or drawn as markers (<c>mode</c>: "lines", "markers", "lines+markers", "markers+text").</summary>
public sealed class Scatter() : Trace("scatter")
{
    [JsonPropertyName("x")] public IReadOnlyList<double>? X { get; set; }
    [JsonPropertyName("y")] public IReadOnlyList<double>? Y { get; set; }
    [JsonPropertyName("mode")] public string? Mode { get; set; }
    [JsonPropertyName("line")] public Line? Line { get; set; }
    [JsonPropertyName("marker")] public Marker? Marker { get; set; }

    /// <summary>One label per point: shown on hover, and drawn when <c>mode</c> includes "text".</summary>
    [JsonPropertyName("text")] public IReadOnlyList<string>? Text { get; set; }
    [JsonPropertyName("textposition")] public string? TextPosition { get; set; }
    [JsonPropertyName("textfont")] public Font? TextFont { get; set; }
    [JsonPropertyName("hoverinfo")] public string? HoverInfo { get; set; }
}

/// <summary>Bars: one per category in <c>x</c>, of height <c>y</c>.</summary>
public sealed class Bar() : Trace("bar")
{
    [JsonPropertyName("x")] public IReadOnlyList<string>? X { get; set; }
    [JsonPropertyName("y")] public IReadOnlyList<double>? Y { get; set; }
    [JsonPropertyName("marker")] public Marker? Marker { get; set; }
    [JsonPropertyName("text")] public IReadOnlyList<string>? Text { get; set; }
    [JsonPropertyName("textposition")] public string? TextPosition { get; set; }
}

/// <summary>
/// A grid of colored cells: <c>z[row][column]</c>. Row 0 is drawn at the bottom unless the y axis has
/// <c>autorange: "reversed"</c> (as for matrices and images). <c>text</c> + <c>texttemplate</c> write a label in each cell.
/// </summary>
public sealed class Heatmap() : Trace("heatmap")
{
    [JsonPropertyName("z")] public IReadOnlyList<IReadOnlyList<double>>? Z { get; set; }

    /// <summary>Column labels (category axis); null numbers the columns 0, 1, ...</summary>
    [JsonPropertyName("x")] public IReadOnlyList<string>? X { get; set; }

    /// <summary>Row labels (category axis); null numbers the rows 0, 1, ...</summary>
    [JsonPropertyName("y")] public IReadOnlyList<string>? Y { get; set; }

    [JsonPropertyName("text")] public IReadOnlyList<IReadOnlyList<string>>? Text { get; set; }

    /// <summary>What to write in each cell, e.g. "%{text}" or "%{z}".</summary>
    [JsonPropertyName("texttemplate")] public string? TextTemplate { get; set; }
    [JsonPropertyName("textfont")] public Font? TextFont { get; set; }

    /// <summary>A named plotly.js color scale: "Blues", "Greys", "Viridis", ...</summary>
    [JsonPropertyName("colorscale")] public string? ColorScale { get; set; }
    [JsonPropertyName("reversescale")] public bool? ReverseScale { get; set; }
    [JsonPropertyName("showscale")] public bool? ShowScale { get; set; }
    [JsonPropertyName("zmin")] public double? ZMin { get; set; }
    [JsonPropertyName("zmax")] public double? ZMax { get; set; }
    [JsonPropertyName("xgap")] public double? XGap { get; set; }
    [JsonPropertyName("ygap")] public double? YGap { get; set; }
}

public sealed class Line
{
    [JsonPropertyName("color")] public string? Color { get; set; }
    [JsonPropertyName("width")] public double? Width { get; set; }

    /// <summary>"solid", "dot", "dash", "dashdot".</summary>
    [JsonPropertyName("dash")] public string? Dash { get; set; }
}

public sealed class Marker
{
    [JsonPropertyName("color")] public string? Color { get; set; }
    [JsonPropertyName("size")] public double? Size { get; set; }

    /// <summary>"circle", "square", "diamond", ...</summary>
    [JsonPropertyName("symbol")] public string? Symbol { get; set; }
    [JsonPropertyName("line")] public Line? Line { get; set; }
}

public sealed class Font
{
    [JsonPropertyName("family")] public string? Family { get; set; }
    [JsonPropertyName("size")] public double? Size { get; set; }
    [JsonPropertyName("color")] public string? Color { get; set; }
}

/// <summary>A title: plotly.js 3 takes titles as objects <c>{ text }</c> only.</summary>
public sealed class Title
{
    public Title() { }
    public Title(string text) => Text = text;

    [JsonPropertyName("text")] public string? Text { get; set; }
    [JsonPropertyName("font")] public Font? Font { get; set; }
}

/// <summary>The figure's layout: title, size, axes, legend, annotations and shapes.</summary>
public sealed class Layout
{
    [JsonPropertyName("title")] public Title? Title { get; set; }
    [JsonPropertyName("width")] public int? Width { get; set; }
    [JsonPropertyName("height")] public int? Height { get; set; }
    [JsonPropertyName("showlegend")] public bool? ShowLegend { get; set; }
    [JsonPropertyName("legend")] public Legend? Legend { get; set; }
    [JsonPropertyName("margin")] public Margin? Margin { get; set; }
    [JsonPropertyName("font")] public Font? Font { get; set; }

    /// <summary>"closest", "x", "x unified", ...</summary>
    [JsonPropertyName("hovermode")] public string? HoverMode { get; set; }
    [JsonPropertyName("plot_bgcolor")] public string? PlotBackgroundColor { get; set; }
    [JsonPropertyName("paper_bgcolor")] public string? PaperBackgroundColor { get; set; }

    /// <summary>Lets plotly.js lay out subplots itself; the builders here set each axis's <c>domain</c> instead.</summary>
    [JsonPropertyName("grid")] public LayoutGrid? Grid { get; set; }

    [JsonPropertyName("xaxis")] public Axis? XAxis { get; set; }
    [JsonPropertyName("yaxis")] public Axis? YAxis { get; set; }

    [JsonPropertyName("annotations")] public List<Annotation>? Annotations { get; set; }
    [JsonPropertyName("shapes")] public List<Shape>? Shapes { get; set; }

    // The axes of subplots 2, 3, ...: plotly.js names them xaxis2, yaxis2, ... at the top level of the layout.
    private readonly SortedDictionary<int, Axis> _moreXAxes = [];
    private readonly SortedDictionary<int, Axis> _moreYAxes = [];

    /// <summary>The x axis of subplot <paramref name="n"/> (1 = <c>xaxis</c>, 2 = <c>xaxis2</c>, ...), created on first use.</summary>
    public Axis X(int n) => GetAxis(n, XAxis, a => XAxis = a, _moreXAxes);

    /// <summary>The y axis of subplot <paramref name="n"/> (1 = <c>yaxis</c>, 2 = <c>yaxis2</c>, ...), created on first use.</summary>
    public Axis Y(int n) => GetAxis(n, YAxis, a => YAxis = a, _moreYAxes);

    private static Axis GetAxis(int n, Axis? first, Action<Axis> setFirst, SortedDictionary<int, Axis> more)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "axes are numbered from 1");
        if (n == 1)
        {
            if (first is null) { first = new Axis(); setFirst(first); }
            return first;
        }
        if (!more.TryGetValue(n, out var axis)) more[n] = axis = new Axis();
        return axis;
    }

    /// <summary>xaxis2, yaxis2, ...: written as top-level layout attributes next to xaxis and yaxis.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? MoreAxes
    {
        get
        {
            if (_moreXAxes.Count == 0 && _moreYAxes.Count == 0) return null;
            var d = new Dictionary<string, JsonElement>();
            foreach (var (n, a) in _moreXAxes) d[$"xaxis{n}"] = JsonSerializer.SerializeToElement(a, FigureJsonContext.Default.Axis);
            foreach (var (n, a) in _moreYAxes) d[$"yaxis{n}"] = JsonSerializer.SerializeToElement(a, FigureJsonContext.Default.Axis);
            return d;
        }
        set { /* figures are only written, never read back into this model */ }
    }
}

public sealed class Axis
{
    [JsonPropertyName("title")] public Title? Title { get; set; }

    /// <summary>"linear", "log", "category"; null lets plotly.js guess from the data.</summary>
    [JsonPropertyName("type")] public string? Type { get; set; }

    /// <summary>[min, max]. On a "log" axis the range is in powers of ten: [-3, 0] shows 0.001 .. 1.</summary>
    [JsonPropertyName("range")] public IReadOnlyList<double>? Range { get; set; }

    /// <summary>"reversed" draws the axis from high to low (row 0 of a matrix or image at the top).</summary>
    [JsonPropertyName("autorange")] public string? AutoRange { get; set; }

    /// <summary>[start, end] as fractions of the figure: where this subplot's axis sits.</summary>
    [JsonPropertyName("domain")] public IReadOnlyList<double>? Domain { get; set; }

    /// <summary>The axis this one is drawn against ("y2" for xaxis2): pairs a subplot's two axes.</summary>
    [JsonPropertyName("anchor")] public string? Anchor { get; set; }

    /// <summary>Keeps this axis's units the same size as the named axis's (square pixels for images).</summary>
    [JsonPropertyName("scaleanchor")] public string? ScaleAnchor { get; set; }
    [JsonPropertyName("showgrid")] public bool? ShowGrid { get; set; }
    [JsonPropertyName("zeroline")] public bool? ZeroLine { get; set; }
    [JsonPropertyName("showticklabels")] public bool? ShowTickLabels { get; set; }
    [JsonPropertyName("ticks")] public string? Ticks { get; set; }
    [JsonPropertyName("visible")] public bool? Visible { get; set; }
    [JsonPropertyName("dtick")] public double? DTick { get; set; }

    /// <summary>At most this many ticks (plotly.js picks fewer, rounder ones; on a log axis it then labels only the
    /// decades, or 1-2-5 within them, instead of every minor digit).</summary>
    [JsonPropertyName("nticks")] public int? NTicks { get; set; }

    /// <summary>d3-format string for tick labels, e.g. ".0%" or ".2e".</summary>
    [JsonPropertyName("tickformat")] public string? TickFormat { get; set; }
    [JsonPropertyName("exponentformat")] public string? ExponentFormat { get; set; }
}

public sealed class Legend
{
    [JsonPropertyName("x")] public double? X { get; set; }
    [JsonPropertyName("y")] public double? Y { get; set; }
    [JsonPropertyName("xanchor")] public string? XAnchor { get; set; }
    [JsonPropertyName("yanchor")] public string? YAnchor { get; set; }

    /// <summary>"v" (default) or "h".</summary>
    [JsonPropertyName("orientation")] public string? Orientation { get; set; }
    [JsonPropertyName("title")] public Title? Title { get; set; }
}

public sealed class Margin
{
    [JsonPropertyName("l")] public int? Left { get; set; }
    [JsonPropertyName("r")] public int? Right { get; set; }
    [JsonPropertyName("t")] public int? Top { get; set; }
    [JsonPropertyName("b")] public int? Bottom { get; set; }
}

/// <summary>plotly.js's automatic subplot grid (<c>layout.grid</c>).</summary>
public sealed class LayoutGrid
{
    [JsonPropertyName("rows")] public int? Rows { get; set; }
    [JsonPropertyName("columns")] public int? Columns { get; set; }

    /// <summary>"independent" (each subplot its own axes) or "coupled".</summary>
    [JsonPropertyName("pattern")] public string? Pattern { get; set; }
    [JsonPropertyName("roworder")] public string? RowOrder { get; set; }
    [JsonPropertyName("xgap")] public double? XGap { get; set; }
    [JsonPropertyName("ygap")] public double? YGap { get; set; }
}

/// <summary>Text placed on the figure, in data coordinates ("x"/"y") or as fractions ("paper", "x2 domain").</summary>
public sealed class Annotation
{
    [JsonPropertyName("x")] public double? X { get; set; }
    [JsonPropertyName("y")] public double? Y { get; set; }
    [JsonPropertyName("xref")] public string? XRef { get; set; }
    [JsonPropertyName("yref")] public string? YRef { get; set; }
    [JsonPropertyName("text")] public string? Text { get; set; }
    [JsonPropertyName("showarrow")] public bool? ShowArrow { get; set; }
    [JsonPropertyName("xanchor")] public string? XAnchor { get; set; }
    [JsonPropertyName("yanchor")] public string? YAnchor { get; set; }
    [JsonPropertyName("font")] public Font? Font { get; set; }
    [JsonPropertyName("bgcolor")] public string? BackgroundColor { get; set; }
}

/// <summary>A line, rectangle or circle drawn on the figure (<c>type</c>: "line", "rect", "circle").</summary>
public sealed class Shape
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("x0")] public double? X0 { get; set; }
    [JsonPropertyName("y0")] public double? Y0 { get; set; }
    [JsonPropertyName("x1")] public double? X1 { get; set; }
    [JsonPropertyName("y1")] public double? Y1 { get; set; }
    [JsonPropertyName("xref")] public string? XRef { get; set; }
    [JsonPropertyName("yref")] public string? YRef { get; set; }
    [JsonPropertyName("line")] public Line? Line { get; set; }

    /// <summary>"below" draws the shape under the traces (edges under the nodes).</summary>
    [JsonPropertyName("layer")] public string? Layer { get; set; }
}

/// <summary>plotly.js's config: how the figure behaves in the page (not how it looks).</summary>
public sealed class Config
{
    [JsonPropertyName("responsive")] public bool? Responsive { get; set; }
    [JsonPropertyName("displaylogo")] public bool? DisplayLogo { get; set; }
    [JsonPropertyName("displayModeBar")] public bool? DisplayModeBar { get; set; }
    [JsonPropertyName("staticPlot")] public bool? StaticPlot { get; set; }
}

/// <summary>Compile-time System.Text.Json metadata: no reflection, so the first figure serializes fast too.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(Figure))]
[JsonSerializable(typeof(Axis))]
[JsonSerializable(typeof(string))]
internal sealed partial class FigureJsonContext : JsonSerializerContext;
