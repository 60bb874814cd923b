using Era.Engine;
using Era.Excel.Checking;
using Era.Figures;
using Era.Symbolic;
using Microsoft.DotNet.Interactive.Formatting;

namespace Era.Notebooks;

/// <summary>
/// How the course's types look in a notebook. The kernel extension (extension.dib) calls <see cref="Register"/>
/// once when a notebook loads the package; calling it again is harmless.
/// <list type="bullet">
/// <item><see cref="Figure"/>: <c>text/html</c> (interactive plotly.js, drawing over a static picture of itself, so
/// it shows offline too) and <c>image/png</c> in the same display, for GitHub and nbviewer, which strip scripts.</item>
/// <item><see cref="Derivation"/> and <see cref="MathBlock"/>: <c>text/markdown</c> with <c>$$…$$</c>, rendered by
/// KaTeX/MathJax in every notebook front end.</item>
/// <item><see cref="CheckReport"/>: the checker's verdict as `era check-sheet` prints it.</item>
/// <item><see cref="ModelSummary"/>: <c>text/html</c> table with the receptive field, plus <c>text/plain</c>.</item>
/// </list>
/// </summary>
public static class CourseFormatters
{
    private static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;

        Formatter.Register<Figure>((figure, writer) => writer.Write(FigureOutput.Html(figure)), HtmlFormatter.MimeType);
        Formatter.Register<Figure>((figure, writer) => writer.Write(FigureOutput.PngBase64(figure)), "image/png");
        Formatter.Register<Figure>((figure, writer) => writer.Write(FigureOutput.Text(figure)), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(Figure), HtmlFormatter.MimeType, "image/png", PlainTextFormatter.MimeType);

        Formatter.Register<Derivation>((d, writer) => writer.Write(MathBlock.Markdown(d.ToLatex())), "text/markdown");
        Formatter.Register<Derivation>((d, writer) => writer.Write(d.ToText()), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(Derivation), "text/markdown", PlainTextFormatter.MimeType);

        Formatter.Register<MathBlock>((m, writer) => writer.Write(m.ToMarkdown()), "text/markdown");
        Formatter.Register<MathBlock>((m, writer) => writer.Write(m.Latex), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(MathBlock), "text/markdown", PlainTextFormatter.MimeType);

        Formatter.Register<CheckReport>((r, writer) => writer.Write(r.ToText()), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(CheckReport), PlainTextFormatter.MimeType);

        Formatter.Register<ModelSummary>((s, writer) => writer.Write(SummaryHtml.Table(s)), HtmlFormatter.MimeType);
        Formatter.Register<ModelSummary>((s, writer) => writer.Write(s.ToText()), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(ModelSummary), HtmlFormatter.MimeType, PlainTextFormatter.MimeType);
    }
}
