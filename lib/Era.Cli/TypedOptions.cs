using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Era.Cli;

/// <summary>
/// Typed options whose parse errors name the option and its limit in plain words ("--iterations: must be ≥ 1, got 0")
/// instead of .NET's ("expected type 'System.Int32'"). The checks run while parsing, before any verb does work.
/// </summary>
public static class TypedOptions
{
    /// <summary>A whole number in [min, max]; <paramref name="defaultValue"/> when absent.</summary>
    public static Option<int> Int(string name, string description, int min, int max, int defaultValue) =>
        new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                if (Token(result) is not string text) return defaultValue;
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                    return Fail<int>(result, name, $"'{text}' is not a whole number");
                if (v < min) return Fail<int>(result, name, $"must be ≥ {min}, got {v}");
                if (v > max) return Fail<int>(result, name, $"must be ≤ {max}, got {v}");
                return v;
            },
        };

    /// <summary>A whole number in [min, max], or null when absent.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min, int max, string unit = "") =>
        new(name)
        {
            Description = description,
            CustomParser = result =>
            {
                if (Token(result) is not string text) return null;
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                    return Fail<int?>(result, name, $"'{text}' is not a whole number");
                if (v < min || v > max)
                    return Fail<int?>(result, name, max == int.MaxValue ? $"must be at least {min}, got {v}" : $"must be between {min} and {max}{(unit.Length > 0 ? " " + unit : "")}, got {v}");
                return v;
            },
        };

    /// <summary>A finite number (&gt; 0 when <paramref name="positive"/>), or null when absent.</summary>
    public static Option<double?> Number(string name, string description, bool positive = false, string what = "the value") =>
        new(name)
        {
            Description = description,
            CustomParser = result =>
            {
                if (Token(result) is not string text) return null;
                if (ParseNumber(text) is not double v) return Fail<double?>(result, name, $"'{text}' is not a finite number");
                if (positive && v <= 0) return Fail<double?>(result, name, $"{what} must be > 0, got {Cli.Format(v)}");
                return v;
            },
        };

    /// <summary>"a,b,c": exactly <paramref name="count"/> numbers when given, at least one otherwise; every one &gt; 0
    /// when <paramref name="positive"/>. Absent, System.CommandLine gives an empty array: test with `is { Length: &gt; 0 }`.</summary>
    public static Option<double[]?> Numbers(string name, string description, int? count = null, bool positive = false, string each = "value") =>
        new(name)
        {
            Description = description,
            Arity = ArgumentArity.ExactlyOne, // one "a,b,c" token, not System.CommandLine's several for an array
            CustomParser = result =>
            {
                if (Token(result) is not string text) return null;
                var parts = text.Split(',', StringSplitOptions.TrimEntries);
                if (parts.Length == 1 && parts[0].Length == 0) parts = [];
                if (count is int n && parts.Length != n)
                    return Fail<double[]?>(result, name, $"expected {n} comma-separated numbers, got {parts.Length}");
                if (parts.Length == 0) return Fail<double[]?>(result, name, "expected at least one number");
                var values = new double[parts.Length];
                for (int i = 0; i < parts.Length; i++)
                {
                    if (ParseNumber(parts[i]) is not double v) return Fail<double[]?>(result, name, $"'{parts[i]}' is not a finite number");
                    if (positive && v <= 0) return Fail<double[]?>(result, name, $"every {each} must be > 0, got {Cli.Format(v)}");
                    values[i] = v;
                }
                return values;
            },
        };

    /// <summary>One of <paramref name="choices"/> (any case), returned in lower case.</summary>
    public static Option<string> Choice(string name, string description, string[] choices, string defaultValue) =>
        new(name)
        {
            Description = $"{description} (one of: {string.Join(", ", choices)}; default {defaultValue})",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                if (Token(result) is not string text) return defaultValue;
                string v = text.ToLowerInvariant();
                return choices.Contains(v) ? v : Fail<string>(result, name, $"unknown value '{text}' (expected one of: {string.Join(", ", choices)})")!;
            },
        };

    private static string? Token(ArgumentResult result) => result.Tokens.Count == 0 ? null : result.Tokens[^1].Value.Trim();

    private static double? ParseNumber(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : null;

    private static T? Fail<T>(ArgumentResult result, string name, string message)
    {
        result.AddError($"{name}: {message}");
        return default;
    }
}
