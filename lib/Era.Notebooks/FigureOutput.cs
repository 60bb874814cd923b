using Era.Figures;

namespace Era.Notebooks;

/// <summary>
/// A figure as notebook output. The static picture is drawn by plotly.js itself in headless Chromium (the one
/// browser <see cref="FigureImages"/> shares in the kernel process); without Chromium the figure is interactive only.
/// </summary>
public static class FigureOutput
{
    private static readonly object Gate = new();
    private static bool? _browserFound;
    private static (string Json, byte[] Png)? _last; // the html and png of one display render the same picture once

    /// <summary>Whether a browser for static pictures is installed (checked once).</summary>
    public static bool CanRenderImages
    {
        get
        {
            lock (Gate)
            {
                if (_browserFound is null)
                {
                    try { ChromiumRenderer.FindBrowser(); _browserFound = true; }
                    catch (Exception e) when (e is FigureRenderException or InvalidOperationException or FileNotFoundException) { _browserFound = false; }
                }
                return _browserFound.Value;
            }
        }
    }

    public static string Html(Figure figure) =>
        PlotlyHtml.Fragment(figure, fallbackPng: CanRenderImages ? Png(figure) : null);

    public static string PngBase64(Figure figure) => Convert.ToBase64String(Png(figure));

    public static string Text(Figure figure) =>
        $"Figure: {figure.Layout.Title?.Text ?? "(untitled)"} ({figure.Data.Count} traces)";

    /// <summary>The figure as PNG, at its layout's size (plotly.js's default 700 × 450 otherwise).</summary>
    public static byte[] Png(Figure figure)
    {
        ArgumentNullException.ThrowIfNull(figure);
        string json = figure.ToJson();
        lock (Gate)
        {
            if (_last is { } last && last.Json == json) return last.Png;
            var png = figure.ToPng();
            _last = (json, png);
            return png;
        }
    }
}
