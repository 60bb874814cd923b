using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Era.Handouts;

/// <summary>
/// One standalone HTML page: markdown cells rendered, math typeset by the inlined KaTeX, code cells and their outputs
/// styled for reading and printing, plotly figures drawn by the inlined plotly.js (once per page) with the notebook's
/// static image beside them for print and for a figure that could not be drawn. Nothing is loaded from anywhere.
/// </summary>
public static partial class HandoutPage
{
    public const string CourseTitle = "How neural networks learn";

    /// <summary>The page for a notebook; <paramref name="title"/> is its first heading.</summary>
    public static string ForNotebook(Notebook notebook, string title, WebAssets assets)
    {
        var body = new StringBuilder();
        bool figures = false;
        foreach (var cell in notebook.Cells)
        {
            switch (cell.CellType)
            {
                case "markdown":
                    body.Append("<section class=\"cell markdown\">\n").Append(Markdown.ToHtml(cell.Source, cell.Attachments)).Append("</section>\n");
                    break;
                case "code":
                    body.Append(CodeCell(cell, ref figures));
                    break;
                default:  // raw cells are for other converters; a handout shows them as text
                    if (cell.Source.Length > 0) body.Append("<pre class=\"cell raw\">").Append(Encode(cell.Source)).Append("</pre>\n");
                    break;
            }
        }
        return Page(title, body.ToString(), assets, figures);
    }

    /// <summary>A page of markdown (the index, the check-sheet guide), with the same style and math.</summary>
    public static string ForMarkdown(string title, string markdown, WebAssets assets) =>
        Page(title, "<section class=\"cell markdown\">\n" + Markdown.ToHtml(markdown) + "</section>\n", assets, figures: false);

    private static string CodeCell(NotebookCell cell, ref bool figures)
    {
        var html = new StringBuilder("<section class=\"cell code\">\n");
        string prompt = cell.ExecutionCount is int n ? $"[{n}]" : "[ ]";
        html.Append($"<div class=\"source\"><span class=\"prompt\">{prompt}</span>")
            .Append($"<pre><code class=\"language-{Encode(cell.Language)}\">{Encode(cell.Source.TrimEnd())}</code></pre></div>\n");
        if (cell.Outputs.Count > 0)
        {
            html.Append("<div class=\"outputs\">\n");
            foreach (var output in cell.Outputs) html.Append(Output(output, ref figures));
            html.Append("</div>\n");
        }
        return html.Append("</section>\n").ToString();
    }

    private static string Output(NotebookOutput o, ref bool figures)
    {
        switch (o.OutputType)
        {
            case "stream":
                return $"<pre class=\"output stream {Encode(o.StreamName ?? "stdout")}\">{Encode(StripAnsi(o.Text ?? ""))}</pre>\n";
            case "error":
                string trace = string.Join("\n", o.Traceback ?? []);
                return $"<pre class=\"output error\"><strong>{Encode(o.ErrorName ?? "Error")}</strong>: {Encode(StripAnsi(o.ErrorValue ?? ""))}"
                    + (trace.Length > 0 ? "\n" + Encode(StripAnsi(trace)) : "") + "</pre>\n";
        }
        var d = o.Data;
        string? image = StaticImage(d);
        if (d.TryGetValue("text/html", out var html))
        {
            if (IsPlotly(html))
            {
                figures = true;
                // The interactive figure, and the notebook's picture of it for print (or if plotly.js could not draw it).
                return "<figure class=\"output figure\">\n<div class=\"interactive\">\n" + Offline(html) + "\n</div>\n"
                    + (image is null ? "" : $"<img class=\"fallback\" alt=\"the figure as a picture\" src=\"{image}\">\n") + "</figure>\n";
            }
            return "<div class=\"output html\">\n" + Offline(html) + "\n</div>\n";
        }
        if (image is not null) return $"<figure class=\"output image\"><img alt=\"output\" src=\"{image}\"></figure>\n";
        if (d.TryGetValue("text/markdown", out var md)) return "<div class=\"output markdown\">\n" + Markdown.ToHtml(md) + "</div>\n";
        if (d.TryGetValue("text/latex", out var latex)) return $"<div class=\"output latex\"><div class=\"math\">\\[{Encode(StripMathDelimiters(latex))}\\]</div></div>\n";
        if (d.TryGetValue("application/json", out var json)) return $"<pre class=\"output json\">{Encode(json)}</pre>\n";
        if (d.TryGetValue("text/plain", out var text)) return $"<pre class=\"output text\">{Encode(StripAnsi(text))}</pre>\n";
        return "";
    }

    /// <summary>A data: URL for the bundle's PNG, JPEG or SVG picture, if it has one.</summary>
    private static string? StaticImage(IReadOnlyDictionary<string, string> d)
    {
        foreach (var mime in new[] { "image/png", "image/jpeg" })
            if (d.TryGetValue(mime, out var b64)) return $"data:{mime};base64,{WhiteSpace().Replace(b64, "")}";
        if (d.TryGetValue("image/svg+xml", out var svg))
            return "data:image/svg+xml;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes(svg));
        return null;
    }

    internal static bool IsPlotly(string html) =>
        html.Contains("Plotly.newPlot", StringComparison.Ordinal) || html.Contains("Plotly.react", StringComparison.Ordinal);

    /// <summary>
    /// Removes what would reach the network from an output's HTML: script and stylesheet elements with a remote
    /// source (plotly.js and require.js are on the page already; the require shim hands out the inlined plotly.js).
    /// </summary>
    internal static string Offline(string html)
    {
        html = RemoteScript().Replace(html, "<!-- era: remote script left out; the page has it inlined -->");
        return RemoteLink().Replace(html, "<!-- era: remote stylesheet left out -->");
    }

    private static string StripMathDelimiters(string latex)
    {
        string t = latex.Trim();
        foreach (var (open, close) in new[] { ("$$", "$$"), ("\\[", "\\]"), ("$", "$"), ("\\(", "\\)") })
            if (t.Length >= open.Length + close.Length && t.StartsWith(open, StringComparison.Ordinal) && t.EndsWith(close, StringComparison.Ordinal))
                return t[open.Length..^close.Length].Trim();
        return t;
    }

    private static string StripAnsi(string s) => Ansi().Replace(s, "");

    private static string Encode(string s) => WebUtility.HtmlEncode(s);

    internal static string Page(string title, string body, WebAssets assets, bool figures)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append($"<title>{Encode(title == CourseTitle ? title : $"{title} — {CourseTitle}")}</title>\n");
        html.Append($"<style>/* KaTeX {WebAssets.KatexVersion}, fonts inlined */\n").Append(assets.KatexCss).Append("\n</style>\n");
        html.Append("<style>\n").Append(Style).Append("</style>\n");
        html.Append("<script>document.documentElement.classList.add('js');</script>\n");
        if (figures)
        {
            html.Append($"<script>/* plotly.js {Figures.PlotlyJs.Version}, from npm {Figures.PlotlyJs.NpmPackage} */\n")
                .Append(ScriptSafe(assets.PlotlyJs)).Append("\n</script>\n");
            html.Append("<script>\n").Append(RequireShim).Append("</script>\n");
        }
        html.Append($"<script>/* KaTeX {WebAssets.KatexVersion} */\n").Append(ScriptSafe(assets.KatexJs)).Append("\n</script>\n");
        html.Append("</head>\n<body>\n");
        html.Append($"<nav><a href=\"index.html\">{CourseTitle}</a></nav>\n<main>\n").Append(body).Append("</main>\n");
        html.Append("<script>\n").Append(Typeset).Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>"&lt;/script" inside inlined code would end the script element early.</summary>
    internal static string ScriptSafe(string js) => js.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);

    // Outputs written for classic Jupyter load plotly.js through require.js: this stand-in hands them the inlined one.
    private const string RequireShim = """
        (function () {
          if (typeof window.requirejs === 'function') return;
          var shim = function (deps, callback) {
            var modules = (deps || []).map(function (d) { return /plotly/i.test(d) ? window.Plotly : undefined; });
            if (typeof callback === 'function') callback.apply(null, modules);
          };
          shim.config = function () { return shim; };
          window.requirejs = window.require = shim;
        })();

        """;

    // Typesets every span.math / div.math with KaTeX (a mistake in the TeX shows in red, not as a broken page), shows
    // a figure's picture where plotly.js drew nothing, and marks the page ready (data-era-ready) for tests and printing.
    private const string Typeset = """
        (function () {
          document.querySelectorAll('.math').forEach(function (el) {
            var tex = el.textContent.trim();
            var display = el.tagName === 'DIV' || el.classList.contains('display');
            var m = /^\\\(([\s\S]*)\\\)$/.exec(tex) || /^\\\[([\s\S]*)\\\]$/.exec(tex);
            if (m) tex = m[1];
            katex.render(tex, el, { displayMode: display, throwOnError: false });
          });
          document.documentElement.dataset.eraMath = String(document.querySelectorAll('.math').length);
          window.addEventListener('load', function () {
            var figures = Array.prototype.slice.call(document.querySelectorAll('figure.figure'));
            var drawn = function (f) { return !!f.querySelector('.interactive svg.main-svg'); };
            var settle = function (tries) {
              if (figures.every(drawn) || tries === 0) {
                figures.forEach(function (f) { if (!drawn(f)) f.classList.add('undrawn'); });
                document.documentElement.dataset.eraReady = '1';
              } else setTimeout(function () { settle(tries - 1); }, 50);
            };
            settle(100);
          });
        })();

        """;

    private const string Style = """
        :root { --ink: #1d1d1f; --muted: #6e6e73; --rule: #d2d2d7; --code-bg: #f5f5f7; --accent: #0b57d0; }
        html { font-size: 17px; }
        body { margin: 0; color: var(--ink); background: #fff; font: 1rem/1.6 Georgia, "DejaVu Serif", serif; }
        nav { max-width: 52rem; margin: 0 auto; padding: 0.8rem 1.2rem; border-bottom: 1px solid var(--rule);
              font: 0.85rem/1.4 system-ui, "DejaVu Sans", sans-serif; }
        nav a { color: var(--muted); text-decoration: none; }
        main { max-width: 52rem; margin: 0 auto; padding: 1rem 1.2rem 4rem; }
        h1, h2, h3, h4 { font-family: system-ui, "DejaVu Sans", sans-serif; line-height: 1.25; margin: 1.6em 0 0.5em; }
        h1 { font-size: 2rem; } h2 { font-size: 1.45rem; } h3 { font-size: 1.15rem; }
        a { color: var(--accent); }
        code, pre { font: 0.82rem/1.5 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
        :not(pre) > code { background: var(--code-bg); padding: 0.1em 0.3em; border-radius: 3px; }
        .cell { margin: 1rem 0; }
        .cell.code .source { position: relative; }
        .cell.code .prompt { position: absolute; left: -3.2rem; top: 0.7rem; width: 3rem; text-align: right;
                             color: var(--muted); font: 0.75rem monospace; }
        .cell.code pre { margin: 0; }
        .source pre { background: var(--code-bg); border-left: 3px solid var(--accent); padding: 0.7rem 0.9rem; overflow-x: auto; }
        .markdown pre { background: var(--code-bg); padding: 0.7rem 0.9rem; overflow-x: auto; }
        td code { white-space: nowrap; }
        .outputs { margin: 0.4rem 0 0 0; padding-left: 0.9rem; border-left: 3px solid var(--rule); }
        .output { margin: 0.4rem 0; overflow-x: auto; }
        pre.output { white-space: pre-wrap; word-break: break-word; }
        pre.output.stderr, pre.output.error { color: #a50e0e; background: #fdf3f2; padding: 0.4rem 0.6rem; }
        .output table { border-collapse: collapse; font: 0.8rem/1.4 system-ui, "DejaVu Sans", sans-serif; }
        .output th, .output td { border: 1px solid var(--rule); padding: 0.2rem 0.5rem; text-align: right; }
        .output th { background: var(--code-bg); }
        .markdown table { border-collapse: collapse; display: block; max-width: 100%; overflow-x: auto; }
        .markdown th, .markdown td { border: 1px solid var(--rule); padding: 0.25rem 0.6rem; }
        figure { margin: 0.6rem 0; }
        figure img { max-width: 100%; height: auto; }
        .js figure.figure .fallback { display: none; }
        .js figure.figure.undrawn .fallback { display: block; }
        .js figure.figure.undrawn .interactive { display: none; }
        div.math, span.math.display { display: block; overflow-x: auto; overflow-y: hidden; }
        .playground form { display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; font: 0.85rem/1.4 system-ui, "DejaVu Sans", sans-serif; }
        .playground fieldset { border: 1px solid var(--rule); border-radius: 4px; margin: 0; padding: 0.3rem 0.6rem 0.5rem;
                               display: flex; flex-wrap: wrap; gap: 0.3rem 0.8rem; align-items: center; min-width: 0; }
        .playground label { white-space: nowrap; }
        .playground input[type=text] { font: 0.85rem "DejaVu Sans Mono", monospace; width: 6.5em; }
        .playground .slider { flex: 1 1 14rem; display: flex; gap: 0.5rem; align-items: center; }
        .playground .slider input { flex: 1; min-width: 8rem; }
        .playground-error { color: #a50e0e; background: #fdf3f2; padding: 0.4rem 0.6rem; font: 0.9rem/1.4 system-ui, "DejaVu Sans", sans-serif; }
        #playground-network { width: 100%; max-width: 36rem; height: auto; display: block; margin: 0.6rem auto; }
        #playground-network .node { fill: #fff; stroke: var(--ink); stroke-width: 1.5; }
        #playground-network text { font: 10px system-ui, "DejaVu Sans", sans-serif; fill: var(--ink); }
        #playground-network .name { font-weight: bold; }
        #playground-network .weight, #playground-network .target { fill: var(--muted); }
        #playground-network .weight { paint-order: stroke; stroke: #fff; stroke-width: 3px; }
        .playground-row td[data-playground] { font: 0.8rem "DejaVu Sans Mono", monospace; white-space: nowrap; }
        .playground-row th { text-align: left; }
        .playground-row td:last-child { text-align: left; }
        ol.course li { margin: 0.8rem 0; }
        ol.course li p { margin: 0.2rem 0; }
        p, li, td, th { overflow-wrap: break-word; }
        :not(pre) > code { overflow-wrap: anywhere; }
        /* A phone: the prompt above its cell (the margin it sits in on a wide screen is not there), less padding.
           Wide tables, code, figures and display math scroll sideways in their own box; the page does not. */
        @media screen and (max-width: 40rem) {
          html { font-size: 16px; }
          h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; }
          nav, main { padding-left: 0.75rem; padding-right: 0.75rem; }
          .cell.code .prompt { position: static; display: block; width: auto; text-align: left; margin-bottom: 0.2rem; }
          .outputs { padding-left: 0.5rem; }
          .source pre { padding: 0.6rem 0.7rem; }
        }
        @media print {
          html { font-size: 11pt; }
          nav { display: none; }
          main { max-width: none; padding: 0; }
          a { color: inherit; }
          .source pre, pre.output { white-space: pre-wrap; word-break: break-word; overflow: visible; }
          .cell.code .prompt { display: none; }
          .cell.code, figure, table, div.math { break-inside: avoid; }
          h1, h2, h3 { break-after: avoid; }
          /* Print the notebook's static picture of a figure; the interactive one needs a screen. */
          figure.figure:has(.fallback) .interactive { display: none !important; }
          figure.figure .fallback { display: block !important; }
          .output { overflow: visible; }
        }

        """;

    [GeneratedRegex("""<script\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//[^>]*>\s*</script\s*>""", RegexOptions.IgnoreCase)]
    private static partial Regex RemoteScript();

    [GeneratedRegex("""<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//[^>]*>""", RegexOptions.IgnoreCase)]
    private static partial Regex RemoteLink();

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial Regex Ansi();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}
