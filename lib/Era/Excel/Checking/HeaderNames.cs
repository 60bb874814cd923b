using System.Text;
using System.Text.RegularExpressions;
using Era.Backprop;

namespace Era.Excel.Checking;

/// <summary>
/// Maps the many ways students spell a column header onto the canonical names of <see cref="TableColumns"/>:
/// "out_h1", "a_{h1}", "ah1" → a_h1; "E total", "Etotal" → E_tot; "∂E_total/∂w1", "dE/dw1" → dE/dw1.
/// </summary>
public static partial class HeaderNames
{
    /// <summary>Every canonical column, biases included, in the course order.</summary>
    public static IReadOnlyList<string> Canonical { get; } =
        TableColumns.For(NetworkConfig.Classic with { B1 = 1, B2 = 1 }).Select(c => c.Name).ToList();

    /// <summary>Lower case, compatibility-normalised (w₁ → w1, ∂ → d), without spaces, underscores, braces, $ or \.</summary>
    public static string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char ch in text.Normalize(NormalizationForm.FormKC).ToLowerInvariant())
        {
            switch (ch)
            {
                case '∂' or 'δ': sb.Append('d'); break;
                case ' ' or '\t' or '\r' or '\n' or '\u00a0' or '_' or '{' or '}' or '$' or '\\' or '*' or '-' or '.' or ':': break;
                case '÷' or '∕': sb.Append('/'); break;
                case >= '₀' and <= '₉': sb.Append((char)('0' + (ch - '₀'))); break; // w₁ (Normalize is a no-op under invariant globalization)
                case '¹': sb.Append('1'); break;
                case '²': sb.Append('2'); break;
                default: sb.Append(ch); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>The canonical column a header names, or null.</summary>
    public static string? Match(string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || header.Length > 64) return null;
        string s = Normalize(header);
        var m = Indexed().Match(s);
        if (m.Success)
        {
            string n = m.Groups["n"].Value;
            string kind = m.Groups["kind"].Value;
            return kind switch
            {
                "t" or "target" or "y" => $"t{n}",
                "i" or "input" or "x" => $"i{n}",
                "b" or "bias" => $"b{n}",
                "h" or "neth" or "inh" or "zh" => $"h{n}",
                "ah" or "outh" or "oh" or "σ(h" or "sigmoid(h" => $"a_h{n}",
                "o" or "neto" or "ino" or "zo" => $"o{n}",
                "ao" or "outo" or "σ(o" or "sigmoid(o" or "yhat" or "ŷ" => $"a_o{n}",
                "e" or "eo" or "error" or "err" => $"E{n}",
                _ => null,
            } is string name && ValidIndex(name, n) ? name : null;
        }
        m = Weight().Match(s);
        if (m.Success) return "w" + m.Groups["n"].Value;
        m = Gradient().Match(s);
        if (m.Success) return "dE/dw" + m.Groups["n"].Value;
        return TotalError().IsMatch(s) ? "E_tot" : null;
    }

    private static bool ValidIndex(string name, string n) => n is "1" or "2" && Canonical.Contains(name);

    // kind + index 1 or 2, optionally closed by ")" for σ(h1), sigmoid(o2).
    [GeneratedRegex(@"^(?<kind>t|target|y|i|input|x|b|bias|h|neth|inh|zh|ah|outh|oh|σ\(h|sigmoid\(h|o|neto|ino|zo|ao|outo|σ\(o|sigmoid\(o|yhat|ŷ|e|eo|error|err)(?<n>[12])\)?$")]
    private static partial Regex Indexed();

    [GeneratedRegex(@"^(w|weight)(?<n>[1-8])$")]
    private static partial Regex Weight();

    // dE/dw1, dEtot/dw1, dEtotal/dw1, dL/dw1, ∂E/∂w1 (∂ already became d), dw1, grad w1, gw1.
    [GeneratedRegex(@"^(d(e|etot|etotal|l|loss)?/dw|dw|gradw|grad|gw|g)(?<n>[1-8])$")]
    private static partial Regex Gradient();

    [GeneratedRegex(@"^(etot|etotal|totale|e|err|error|totalerror|loss|etot=e1\+e2|e1\+e2)$")]
    private static partial Regex TotalError();
}
