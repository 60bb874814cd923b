using System.Text.RegularExpressions;
using Era.Figures;

namespace Era.Handouts;

/// <summary>
/// The front-end code a handout page inlines, from lib/web/node_modules (pinned in lib/web/package-lock.json):
/// KaTeX's script and stylesheet, its fonts turned into data: URLs, and plotly.js. Pages are then single files that
/// work offline and make no request.
/// </summary>
public sealed partial class WebAssets
{
    /// <summary>The KaTeX version pinned in lib/web/package.json.</summary>
    public const string KatexVersion = "0.19.1";

    public required string KatexCss { get; init; }
    public required string KatexJs { get; init; }
    public required string PlotlyJs { get; init; }

    /// <summary>The playground's network (generated from lib/Era/Symbolic) and its page script, from lib/web/playground.</summary>
    public required string PlaygroundNetworkJs { get; init; }
    public required string PlaygroundJs { get; init; }

    /// <summary>Reads the assets; throws <see cref="HandoutException"/> with the fix (`npm ci --prefix lib/web`) when one is missing.</summary>
    public static WebAssets Load()
    {
        string? web = Figures.PlotlyJs.FindWebFolder();
        string dist = Path.Combine(web ?? "lib/web", "node_modules", "katex", "dist");
        string css = Path.Combine(dist, "katex.min.css"), js = Path.Combine(dist, "katex.min.js");
        if (!File.Exists(css) || !File.Exists(js))
            throw new HandoutException($"KaTeX is missing ({dist}): run `npm ci --prefix lib/web` in the repository");
        string plotly;
        try { plotly = File.ReadAllText(Figures.PlotlyJs.LocalScriptPath()); }
        catch (FigureRenderException e) { throw new HandoutException(e.Message, e); }
        string playground = Path.Combine(web ?? "lib/web", "playground");
        string network = Path.Combine(playground, "network.js"), page = Path.Combine(playground, "playground.js");
        if (!File.Exists(network) || !File.Exists(page))
            throw new HandoutException($"the playground's scripts are missing ({playground}): they are part of the repository");
        return new WebAssets
        {
            PlaygroundNetworkJs = File.ReadAllText(network),
            PlaygroundJs = File.ReadAllText(page),
            KatexCss = InlineFonts(File.ReadAllText(css), Path.Combine(dist, "fonts")),
            KatexJs = File.ReadAllText(js),
            PlotlyJs = plotly,
        };
    }

    /// <summary>
    /// Replaces each @font-face source list (woff2, woff, ttf files beside the stylesheet) with the woff2 font as a
    /// data: URL — every browser that runs KaTeX reads woff2, and a page then needs no font files.
    /// </summary>
    internal static string InlineFonts(string css, string fontsDir)
    {
        string result = FontSources().Replace(css, m =>
        {
            string file = Path.Combine(fontsDir, m.Groups["name"].Value + ".woff2");
            if (!File.Exists(file)) throw new HandoutException($"KaTeX font {file} is missing: run `npm ci --prefix lib/web`");
            return $"src:url(data:font/woff2;base64,{Convert.ToBase64String(File.ReadAllBytes(file))}) format(\"woff2\")";
        });
        if (result.Contains("url(fonts/", StringComparison.Ordinal))
            throw new HandoutException("KaTeX's stylesheet names fonts in a form era does not inline (url(fonts/…)); check the pinned KaTeX version");
        return result;
    }

    // src:url(fonts/KaTeX_AMS-Regular.woff2) format("woff2"),url(fonts/KaTeX_AMS-Regular.woff) format("woff"),...
    [GeneratedRegex("""src:url\(fonts/(?<name>[A-Za-z0-9_-]+)\.woff2\) format\("woff2"\)(?:,url\(fonts/[^)]+\) format\("[a-z0-9]+"\))*""")]
    private static partial Regex FontSources();
}
