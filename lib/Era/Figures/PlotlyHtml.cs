using System.Net;
using System.Text;

namespace Era.Figures;

/// <summary>HTML that draws a figure with plotly.js: a fragment for notebook outputs, a whole page for handouts.</summary>
public static class PlotlyHtml
{
    /// <summary>
    /// A <c>div</c> and a <c>script</c> that draw the figure, for a notebook cell's HTML output. It loads the pinned
    /// plotly.js from the CDN the way notebook front ends expect: through require.js where the page has it (classic
    /// Jupyter), with a script tag otherwise (JupyterLab, VS Code); a plotly.js of the same version already on the
    /// page is reused, and several figures on one page load it once. With <paramref name="fallbackPng"/> the div
    /// first shows that picture of the figure and plotly.js draws over it once loaded: offline, or where scripts do
    /// not run, the reader still sees the figure.
    /// </summary>
    public static string Fragment(Figure figure, string? divId = null, byte[]? fallbackPng = null)
    {
        ArgumentNullException.ThrowIfNull(figure);
        divId ??= "era-plot-" + Guid.NewGuid().ToString("N")[..12];
        string id = JsString(divId);
        var html = new StringBuilder();
        html.Append($"<div id=\"{WebUtility.HtmlEncode(divId)}\"{SizeStyle(figure)}>");
        if (fallbackPng is not null)
            html.Append($"<img src=\"data:image/png;base64,{Convert.ToBase64String(fallbackPng)}\" alt=\"{WebUtility.HtmlEncode(figure.Layout.Title?.Text ?? "figure")}\" style=\"max-width:100%\">");
        html.Append("</div>\n");
        html.Append("<script type=\"text/javascript\">\n(function () {\n");
        html.Append($"  var figure = {figure.ToJson()};\n");
        html.Append($"  var draw = function (Plotly) {{ var div = document.getElementById({id}); div.innerHTML = ''; Plotly.newPlot(div, figure.data, figure.layout, figure.config || {{}}); }};\n");
        html.Append($"  var version = {JsString(PlotlyJs.Version)};\n");
        html.Append("  if (window.Plotly && window.Plotly.version === version) { draw(window.Plotly); return; }\n");
        html.Append("  if (typeof window.requirejs === 'function' && typeof window.requirejs.config === 'function') {\n");
        html.Append("    // require.js: plotly.js's bundle sets window.Plotly rather than defining an AMD module, hence the shim.\n");
        html.Append($"    window.requirejs.config({{ paths: {{ plotly: {JsString(PlotlyJs.CdnModule)} }}, shim: {{ plotly: {{ exports: 'Plotly' }} }} }});\n");
        html.Append("    window.requirejs(['plotly'], function (Plotly) { draw(Plotly || window.Plotly); });\n");
        html.Append("    return;\n  }\n");
        html.Append("  // A script tag, added once per page; every figure waits on the same load.\n");
        html.Append("  window.eraPlotlyLoading = window.eraPlotlyLoading || new Promise(function (resolve, reject) {\n");
        html.Append("    var s = document.createElement('script');\n");
        html.Append($"    s.src = {JsString(PlotlyJs.CdnUrl)};\n");
        html.Append("    s.onload = function () { resolve(window.Plotly); };\n");
        html.Append("    s.onerror = function () { reject(new Error('could not load ' + s.src)); };\n");
        html.Append("    document.head.appendChild(s);\n  });\n");
        html.Append("  window.eraPlotlyLoading.then(draw);\n");
        html.Append("})();\n</script>\n");
        return html.ToString();
    }

    /// <summary>
    /// A standalone HTML page for handouts. By default it inlines the local plotly.js (lib/web/node_modules), so the
    /// page works offline and on its own (about 5 MB). <paramref name="plotlyScriptSrc"/> links a script instead
    /// (a path relative to the page, or a URL).
    /// </summary>
    public static string Page(Figure figure, string? title = null, string? plotlyScriptSrc = null)
    {
        ArgumentNullException.ThrowIfNull(figure);
        title ??= figure.Layout.Title?.Text ?? "figure";
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append($"<title>{WebUtility.HtmlEncode(title)}</title>\n");
        if (plotlyScriptSrc is null)
        {
            string js = File.ReadAllText(PlotlyJs.LocalScriptPath());
            // "</script" inside the inlined code would end the script element early.
            js = js.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
            html.Append($"<script type=\"text/javascript\">/* plotly.js {PlotlyJs.Version}, from npm {PlotlyJs.NpmPackage} */\n");
            html.Append(js).Append("\n</script>\n");
        }
        else
        {
            html.Append($"<script type=\"text/javascript\" src=\"{WebUtility.HtmlEncode(plotlyScriptSrc)}\"></script>\n");
        }
        html.Append("</head>\n<body>\n");
        html.Append($"<div id=\"figure\"{SizeStyle(figure)}></div>\n");
        html.Append("<script type=\"text/javascript\">\n");
        html.Append($"  var figure = {figure.ToJson()};\n");
        html.Append("  Plotly.newPlot('figure', figure.data, figure.layout, figure.config || {});\n");
        html.Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string SizeStyle(Figure f) =>
        f.Layout.Width is int w && f.Layout.Height is int h ? $" style=\"width:{w}px;height:{h}px\"" : "";

    /// <summary>A JavaScript string literal (JSON string escaping is valid JavaScript and safe inside a script element).</summary>
    private static string JsString(string s) => System.Text.Json.JsonSerializer.Serialize(s, FigureJsonContext.Default.String);
}
