using Era.IO;

namespace Era.Figures;

public enum FigureFormat { Html, Png, Svg }

/// <summary>Writes a figure to a file whose extension picks the format: .html (standalone page), .png or .svg.</summary>
public static class FigureFile
{
    /// <summary>The format a file name asks for; throws <see cref="ArgumentException"/> naming the supported ones.</summary>
    public static FigureFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" or ".htm" => FigureFormat.Html,
        ".png" => FigureFormat.Png,
        ".svg" => FigureFormat.Svg,
        var ext => throw new ArgumentException(
            $"unknown figure format '{(ext.Length == 0 ? "(no extension)" : ext)}' in '{path}' (expected .html, .png or .svg)", nameof(path)),
    };

    /// <summary>
    /// Writes the figure atomically. .html is a standalone page with plotly.js inlined (no browser needed; a given
    /// width/height is set on the figure's layout); .png and .svg use <paramref name="renderer"/>, or start (and close)
    /// a browser for this one file.
    /// </summary>
    public static void Save(Figure figure, string path, int? width = null, int? height = null, ChromiumRenderer? renderer = null)
    {
        ArgumentNullException.ThrowIfNull(figure);
        var format = FormatOf(path);
        if (format == FigureFormat.Html)
        {
            if (width is not null) figure.Layout.Width = width;
            if (height is not null) figure.Layout.Height = height;
            AtomicFile.WriteAllText(path, PlotlyHtml.Page(figure));
            return;
        }
        if (renderer is not null)
        {
            renderer.Save(figure, path, width, height);
            return;
        }
        using var own = ChromiumRenderer.Start();
        own.Save(figure, path, width, height);
    }
}
