namespace Era.Notebooks;

/// <summary>
/// Display math for a notebook output: <c>new MathBlock(@"\frac{\partial E}{\partial w}")</c> shows as rendered
/// math (a <c>text/markdown</c> output holding <c>$$…$$</c>). Several blocks can be shown as one output.
/// </summary>
public sealed record MathBlock(string Latex)
{
    public string ToMarkdown() => Markdown(Latex);

    /// <summary>LaTeX as a markdown display-math block: <c>$$</c> on lines of their own, no blank line inside.</summary>
    public static string Markdown(string latex)
    {
        ArgumentNullException.ThrowIfNull(latex);
        var lines = latex.Replace("\r\n", "\n").Split('\n').Where(l => l.Trim().Length > 0);
        return "$$\n" + string.Join("\n", lines) + "\n$$";
    }
}
