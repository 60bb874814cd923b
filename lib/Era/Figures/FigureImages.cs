using System.Text;

namespace Era.Figures;

/// <summary>
/// Static pictures of figures in one line — <c>figure.ToPng()</c>, <c>figure.ToSvg()</c> — for notebook outputs and
/// handouts. All calls share one headless Chromium, started on first use (about a second), restarted if it died, and
/// closed when the process exits (or by <see cref="Close"/>). Thread-safe: exports run one at a time.
/// </summary>
public static class FigureImages
{
    private static readonly object Gate = new();
    private static ChromiumRenderer? _shared;

    /// <summary>The figure as PNG bytes; size defaults to the layout's (else 700 × 450).</summary>
    public static byte[] ToPng(this Figure figure, int? width = null, int? height = null) => Export(figure, ImageFormat.Png, width, height);

    /// <summary>The figure as an SVG document.</summary>
    public static string ToSvg(this Figure figure, int? width = null, int? height = null) =>
        Encoding.UTF8.GetString(Export(figure, ImageFormat.Svg, width, height));

    /// <summary>
    /// A notebook output's mime bundle: the interactive figure (<see cref="PlotlyHtml.Fragment"/>) and its PNG, which
    /// the handouts print and show where plotly.js cannot run.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Bundle(Figure figure, int? width = null, int? height = null) =>
        new Dictionary<string, string>
        {
            ["text/html"] = PlotlyHtml.Fragment(figure),
            ["image/png"] = Convert.ToBase64String(figure.ToPng(width, height)),
        };

    /// <summary>Closes the shared browser now (the next export starts another).</summary>
    public static void Close()
    {
        lock (Gate)
        {
            _shared?.Dispose();
            _shared = null;
        }
    }

    /// <summary>The shared browser's process id, or null before the first export (for tests).</summary>
    internal static int? SharedProcessId
    {
        get { lock (Gate) return _shared?.ProcessId; }
    }

    private static byte[] Export(Figure figure, ImageFormat format, int? width, int? height)
    {
        ArgumentNullException.ThrowIfNull(figure);
        lock (Gate)
        {
            if (_shared is not { IsRunning: true })
            {
                _shared?.Dispose();
                _shared = null;
                _shared = ChromiumRenderer.Start();
            }
            return _shared.Export(figure, format, width, height);
        }
    }
}
