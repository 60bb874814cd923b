using System.Globalization;
using System.Text.RegularExpressions;

namespace Era.Symbolic;

/// <summary>
/// Writes an expression as plain text (Unicode: −, ·, ², σ) or as LaTeX (KaTeX/MathJax), with only the parentheses
/// the precedence needs: sums 1, negation 2, products 3, powers 4, names, numbers and functions 5.
/// </summary>
public static partial class Render
{
    public static string Text(Expr e) => Write(e, latex: false);

    public static string Latex(Expr e) => Write(e, latex: true);

    /// <summary>
    /// A JavaScript expression that computes exactly what <see cref="Expr.Evaluate"/> computes, operation for operation
    /// in the same order (so the same IEEE doubles, up to Math.exp's last bit): parentheses wherever the tree's
    /// grouping differs from JavaScript's left-to-right reading, σ(x) as 1 / (1 + Math.exp(-x)). Variables must be
    /// JavaScript identifiers (the network's names are: a_h1, E_total).
    /// </summary>
    public static string JavaScript(Expr e)
    {
        static int Precedence(Expr e) => e switch
        {
            Add or Sub => 1,
            Mul or Sigmoid => 3,            // σ is written as a division
            Neg => 4,
            Const c when double.IsNegative(c.Value) => 4,   // -0 too: "-" + "-0" would be JavaScript's --0
            _ => 5,
        };
        // Left-associative operators: a left operand of the same precedence needs no parentheses, a right one does.
        static string Left(Expr child, int op) => Precedence(child) >= op ? JavaScript(child) : $"({JavaScript(child)})";
        static string Right(Expr child, int op) => Precedence(child) > op ? JavaScript(child) : $"({JavaScript(child)})";
        static string Atom(Expr child) => Precedence(child) >= 5 ? JavaScript(child) : $"({JavaScript(child)})";
        static string Literal(double v) => double.IsFinite(v)
            ? v.ToString("R", CultureInfo.InvariantCulture)
            : throw new ArgumentException($"{v} has no JavaScript literal in an expression");
        return e switch
        {
            Const c => Literal(c.Value),
            Var v => Identifier().IsMatch(v.Name) ? v.Name : throw new ArgumentException($"'{v.Name}' is not a JavaScript identifier"),
            Add a => $"{Left(a.Left, 1)} + {Right(a.Right, 1)}",
            Sub s => $"{Left(s.Left, 1)} - {Right(s.Right, 1)}",
            Mul m => $"{Left(m.Left, 3)} * {Right(m.Right, 3)}",
            Neg n => $"-{Atom(n.Operand)}",
            Pow p => $"Math.pow({JavaScript(p.Base)}, {Literal(p.Exponent)})",
            Exp x => $"Math.exp({JavaScript(x.Operand)})",
            Sigmoid s => $"1 / (1 + Math.exp(-{Atom(s.Operand)}))",
            _ => throw new NotSupportedException(e.GetType().Name),
        };
    }

    [GeneratedRegex("^[A-Za-z_$][A-Za-z0-9_$]*$")]
    private static partial Regex Identifier();

    /// <summary>∂y/∂x as text (∂E1/∂a_o1) or LaTeX (\frac{\partial E_{1}}{\partial a_{o1}}).</summary>
    public static string Partial(string y, string x, bool latex) =>
        latex ? $@"\frac{{\partial {Name(y, true)}}}{{\partial {Name(x, true)}}}" : $"∂{y}/∂{x}";

    /// <summary>A constant inside an expression: ½ for 0.5 (as in E = ½·(t − a)²), otherwise as <see cref="Number"/>.</summary>
    public static string Constant(double v, bool latex) =>
        v == 0.5 ? (latex ? @"\tfrac{1}{2}" : "½") : Number(v, latex);

    /// <summary>A number in round-trip form; in LaTeX 1.5E-07 becomes 1.5 \times 10^{-7}.</summary>
    public static string Number(double v, bool latex)
    {
        string s = v.ToString("R", CultureInfo.InvariantCulture);
        if (latex && s.Contains('E'))
        {
            var parts = s.Split('E');
            s = $@"{parts[0]} \times 10^{{{int.Parse(parts[1], CultureInfo.InvariantCulture)}}}";
        }
        return latex ? s : s.Replace('-', '−');
    }

    /// <summary>A variable's name: as written in text; in LaTeX w5 → w_{5}, a_o1 → a_{o1}, E_total → E_{\text{total}}.</summary>
    public static string Name(string name, bool latex)
    {
        if (!latex) return name;
        int split = name.IndexOf('_');
        string head = split >= 0 ? name[..split] : new string(name.TakeWhile(char.IsLetter).ToArray());
        string sub = split >= 0 ? name[(split + 1)..] : name[head.Length..];
        if (head.Length == 0 || !head.All(char.IsLetter) || !sub.All(char.IsLetterOrDigit) || (split < 0 && !sub.All(char.IsDigit)))
            return $@"\mathrm{{{name.Replace("_", @"\_")}}}";
        if (head.Length > 1) head = $@"\mathrm{{{head}}}";
        if (sub.Length == 0) return head;
        if (sub.Length > 1 && sub.All(char.IsLetter)) sub = $@"\text{{{sub}}}";
        return $"{head}_{{{sub}}}";
    }

    private static int Precedence(Expr e) => e switch
    {
        Add or Sub => 1,
        Neg => 2,
        Const c when double.IsNegative(c.Value) => 2,
        Mul => 3,
        Pow => 4,
        _ => 5,
    };

    private static string Write(Expr e, bool latex)
    {
        string Child(Expr child, int atLeast)
        {
            string s = Write(child, latex);
            if (Precedence(child) >= atLeast) return s;
            return latex ? $@"\left({s}\right)" : $"({s})";
        }
        string minus = latex ? " - " : " − ";
        return e switch
        {
            Const c => Constant(c.Value, latex),
            Var v => Name(v.Name, latex),
            Add a => $"{Child(a.Left, 1)} + {Child(a.Right, 1)}",
            Sub s => $"{Child(s.Left, 1)}{minus}{Child(s.Right, 2)}",
            Neg n => (latex ? "-" : "−") + Child(n.Operand, 3),
            Mul m => $"{Child(m.Left, 3)}{(latex ? @" \cdot " : "·")}{Child(m.Right, 3)}",
            Pow p => latex
                ? (p.Base is Exp ? $@"\left({Write(p.Base, true)}\right)" : Child(p.Base, 5)) + $"^{{{Constant(p.Exponent, true)}}}" // no e^{x}^{2}
                : Child(p.Base, 5) + Superscript(p.Exponent),
            Exp x => latex ? $"e^{{{Write(x.Operand, true)}}}" : $"exp({Write(x.Operand, false)})",
            Sigmoid s => latex ? $@"\sigma\left({Write(s.Operand, true)}\right)" : $"σ({Write(s.Operand, false)})",
            _ => throw new NotSupportedException(e.GetType().Name),
        };
    }

    private static string Superscript(double n)
    {
        string s = n.ToString("R", CultureInfo.InvariantCulture);
        const string digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        return s.All(char.IsDigit) ? string.Concat(s.Select(d => digits[d - '0'])) : $"^{s}";
    }
}
