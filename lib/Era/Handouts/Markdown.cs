using System.Net;
using Markdig;
using Markdig.Extensions.Mathematics;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Era.Handouts;

/// <summary>
/// Markdown cells to HTML with Markdig. Math (<c>$…$</c>, <c>$$…$$</c>) is passed through untouched, in
/// <c>span.math</c> / <c>div.math</c>, for KaTeX to typeset in the page. Images pasted into a cell (attachments) become
/// data: URLs; an image on the web becomes a link to it, so that a page never loads anything.
/// </summary>
public static partial class Markdown
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UseMathematics()
        .UsePipeTables()
        .UseEmphasisExtras()
        .UseAutoIdentifiers()
        .UseTaskLists()
        .UseFootnotes()
        .UseAutoLinks()
        .Build();

    public static MarkdownDocument Parse(string markdown) => Markdig.Markdown.Parse(markdown, Pipeline);

    /// <summary>Renders a markdown cell; <paramref name="attachments"/> resolves <c>attachment:name</c> images.</summary>
    public static string ToHtml(string markdown, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? attachments = null)
    {
        var doc = Parse(OneLineDisplayMath(markdown));
        foreach (var link in doc.Descendants<LinkInline>().Where(l => l.IsImage).ToList())
            ResolveImage(link, attachments);
        // $$…$$ inside a paragraph is display math in Jupyter; Markdig keeps it inline, so mark it for KaTeX.
        foreach (var math in doc.Descendants<MathInline>().Where(m => m.DelimiterCount >= 2).ToList())
            math.ReplaceBy(new HtmlInline($"<span class=\"math display\">\\[{WebUtility.HtmlEncode(math.Content.ToString())}\\]</span>"));
        return Markdig.Markdown.ToHtml(doc, Pipeline);
    }

    /// <summary>
    /// The first heading's text and, for the index, the first paragraph after it as HTML: whole sentences, so a
    /// paragraph that leads into a list ("… You will" or "…:") is taken through the list that finishes it.
    /// </summary>
    public static (string? Title, string? Summary) TitleAndSummary(IEnumerable<string> markdownCells)
    {
        string? title = null;
        foreach (var cell in markdownCells)
        {
            var doc = Parse(cell);
            for (int i = 0; i < doc.Count; i++)
            {
                if (title is null && doc[i] is HeadingBlock h)
                    title = InlineText(h.Inline);
                else if (title is not null && doc[i] is ParagraphBlock p)
                {
                    int end = p.Span.End;
                    if (!EndsASentence(InlineText(p.Inline)) && i + 1 < doc.Count && doc[i + 1] is ListBlock list) end = list.Span.End;
                    return (title, Markdig.Markdown.ToHtml(cell[p.Span.Start..(end + 1)], Pipeline).Trim());
                }
            }
        }
        return (title, null);
    }

    /// <summary>Whether a paragraph's text ends as a sentence does (., ! or ?, perhaps inside a closing bracket or quote).</summary>
    private static bool EndsASentence(string text) =>
        text.TrimEnd().TrimEnd(')', '"', '\'', '\u201d') is { Length: > 0 } t && t[^1] is '.' or '!' or '?';

    private static string InlineText(ContainerInline? inline)
    {
        if (inline is null) return "";
        var text = new System.Text.StringBuilder();
        foreach (var i in inline.Descendants<Inline>())
        {
            if (i is LiteralInline l) text.Append(l.Content.ToString());
            else if (i is CodeInline c) text.Append(c.Content);
            else if (i is MathInline m) text.Append(m.Content.ToString());
        }
        return text.ToString().Trim();
    }

    private static void ResolveImage(LinkInline link, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? attachments)
    {
        string url = link.Url ?? "";
        if (url.StartsWith("attachment:", StringComparison.Ordinal))
        {
            string name = url["attachment:".Length..];
            if (attachments is not null && attachments.TryGetValue(name, out var bundle)
                && bundle.FirstOrDefault(kv => kv.Key.StartsWith("image/", StringComparison.Ordinal)) is { Key: not null } image)
                link.Url = $"data:{image.Key};base64,{image.Value.Replace("\n", "", StringComparison.Ordinal)}";
            return;
        }
        if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            || url.StartsWith("//", StringComparison.Ordinal))
        {
            // Offline pages: link to the picture rather than load it.
            link.IsImage = false;
            if (link.FirstChild is null) link.AppendChild(new LiteralInline(WebUtility.HtmlDecode(url)));
        }
    }

    /// <summary>
    /// Each $$…$$ that runs over several lines, outside code, written on one line (TeX reads a line break as a space).
    /// Jupyter takes the math out before the markdown; Markdig does not, so a line inside it that starts with "- "
    /// or "+ " (a minus sign) would begin a list and leave the formula as raw TeX.
    /// </summary>
    internal static string OneLineDisplayMath(string markdown)
    {
        if (!markdown.Contains("$$", StringComparison.Ordinal)) return markdown;
        var text = new System.Text.StringBuilder(markdown.Length);
        bool fence = false, math = false;
        foreach (string line in markdown.Split('\n'))
        {
            if (!math && line.TrimStart().StartsWith("```", StringComparison.Ordinal)) fence = !fence;
            if (text.Length > 0) text.Append(math ? ' ' : '\n');
            text.Append(line);
            if (fence) continue;
            // Outside inline code, every second $$ closes the formula the first opened.
            string outsideCode = InlineCode().Replace(line, "");
            for (int at = outsideCode.IndexOf("$$", StringComparison.Ordinal); at >= 0; at = outsideCode.IndexOf("$$", at + 2, StringComparison.Ordinal))
                math = !math;
        }
        return text.ToString();
    }

    [System.Text.RegularExpressions.GeneratedRegex("`[^`]*`")]
    private static partial System.Text.RegularExpressions.Regex InlineCode();
}
