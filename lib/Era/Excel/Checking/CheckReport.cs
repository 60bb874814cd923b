using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Era.Excel.Checking;

/// <summary>How a wrong cell relates to its column.</summary>
public static class FindingKind
{
    /// <summary>Wrong in every row from the first: the column's formula is wrong (e.g. a_h1 where a_h2 belongs).</summary>
    public const string Column = "column";
    /// <summary>Right at first, wrong in a run of rows from some row on: e.g. an update formula broken when copied down.</summary>
    public const string FromRow = "from-row";
    /// <summary>One wrong cell among right ones: a typed-over value, a slip.</summary>
    public const string Cell = "cell";
}

/// <summary>
/// One wrong cell, or a run of wrong cells in one column (<see cref="Count"/> cells from <see cref="Cell"/> to
/// <see cref="LastCell"/>). Found and expected are those of the first cell; expected is computed from that row's
/// own values as found in the sheet. <see cref="Why"/> says what is wrong where no expected value can be given
/// (an update that goes uphill when no η > 0 is known).
/// </summary>
public sealed record Finding(
    string Cell, int Row, string Column, string Header, double? Found, string? FoundText, double? Expected,
    string? Formula, string Kind, int Count, string LastCell, string? Why = null);

/// <summary>The checker's verdict on one sheet.</summary>
public sealed class CheckReport
{
    public required string Sheet { get; init; }
    /// <summary>The table's range, header row included, e.g. B4:AI204.</summary>
    public required string Table { get; init; }
    public required int Rows { get; init; }
    public required double? LearningRate { get; init; }
    /// <summary>Where η came from: "cell 'Front'!B3" or "inferred from the weight updates".</summary>
    public required string LearningRateSource { get; init; }
    public required IReadOnlyList<string> CheckedColumns { get; init; }
    public required IReadOnlyList<string> MissingColumns { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }
    /// <summary>Ordered by row, then by sheet column.</summary>
    public required IReadOnlyList<Finding> Findings { get; init; }

    public bool Ok => Findings.Count == 0;

    /// <summary>The first cell where the sheet goes wrong, or null.</summary>
    public string? FirstWrongCell => Findings.Count > 0 ? Findings[0].Cell : null;

    public int WrongCells => Findings.Sum(f => f.Count);

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Longest text from the sheet a report quotes: a cell may hold 32,767 characters, or a hostile file far more.</summary>
    public const int MaxQuotedChars = 64;

    /// <summary>A text from the sheet as the report quotes it: cut to <see cref="MaxQuotedChars"/> characters and "…".</summary>
    public static string Clip(string s) => s.Length <= MaxQuotedChars ? s : s[..MaxQuotedChars] + "…";

    public string ToText()
    {
        var sb = new StringBuilder();
        string eta = LearningRate is double lr ? $"η = {F(lr)} ({LearningRateSource})" : $"η unknown ({LearningRateSource})";
        sb.AppendLine($"sheet '{Sheet}', table {Table}, {Rows} rows, {eta}");
        if (MissingColumns.Count > 0)
            sb.AppendLine($"not in the sheet (computed instead): {string.Join(", ", MissingColumns)}");
        foreach (var note in Notes) sb.AppendLine($"note: {note}");
        if (Ok)
        {
            sb.AppendLine($"all correct: {CheckedColumns.Count} columns × {Rows} rows agree with the recomputation (1e-9 relative)");
            return sb.ToString();
        }
        sb.AppendLine($"{WrongCells} wrong cell{(WrongCells == 1 ? "" : "s")} in {Findings.Count} finding{(Findings.Count == 1 ? "" : "s")}; "
            + $"things first go wrong at {FirstWrongCell}");
        foreach (var f in Findings)
        {
            string found = f.Found is double d ? F(d) : f.FoundText is { Length: > 0 } t ? $"'{t}'" : "empty";
            string expected = f.Expected is double e ? F(e) : "a number";
            string what = f.Kind switch
            {
                FindingKind.Column => $"wrong in every row ({f.Cell}:{f.LastCell}, {f.Count} cells): the column's formula is wrong",
                FindingKind.FromRow => $"wrong from row {f.Row} on ({f.Cell}:{f.LastCell}, {f.Count} cells)",
                _ => "wrong cell",
            };
            sb.AppendLine($"  {f.Cell,-7} {f.Column,-7} {what}");
            string because = f.Why is null ? $"expected {expected}" : f.Why;
            sb.AppendLine($"          found {found}, {because}" + (f.Formula is null ? "" : $"; it should hold {f.Formula}"));
        }
        return sb.ToString();
    }

    public string ToJson()
    {
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, options))
        {
            w.WriteStartObject();
            w.WriteBoolean("ok", Ok);
            w.WriteString("sheet", Sheet);
            w.WriteString("table", Table);
            w.WriteNumber("rows", Rows);
            Number(w, "learningRate", LearningRate);
            w.WriteString("learningRateSource", LearningRateSource);
            if (FirstWrongCell is null) w.WriteNull("firstWrongCell"); else w.WriteString("firstWrongCell", FirstWrongCell);
            Strings(w, "missingColumns", MissingColumns);
            Strings(w, "notes", Notes);
            w.WriteStartArray("findings");
            foreach (var f in Findings)
            {
                w.WriteStartObject();
                w.WriteString("cell", f.Cell);
                w.WriteNumber("row", f.Row);
                w.WriteString("column", f.Column);
                if (f.Found is double d) w.WriteNumber("found", d);
                else if (f.FoundText is { Length: > 0 } t) w.WriteString("found", t);
                else w.WriteNull("found");
                Number(w, "expected", f.Expected);
                if (f.Formula is null) w.WriteNull("formula"); else w.WriteString("formula", f.Formula);
                w.WriteString("kind", f.Kind);
                w.WriteNumber("count", f.Count);
                w.WriteString("lastCell", f.LastCell);
                if (f.Why is not null) w.WriteString("why", f.Why);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The JSON for a file that could not be checked (exit 2).</summary>
    public static string ErrorJson(string message)
    {
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, options))
        {
            w.WriteStartObject();
            w.WriteBoolean("ok", false);
            w.WriteString("error", message);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Number(Utf8JsonWriter w, string name, double? v)
    {
        if (v is double d && double.IsFinite(d)) w.WriteNumber(name, d); else w.WriteNull(name);
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> items)
    {
        w.WriteStartArray(name);
        foreach (var s in items) w.WriteStringValue(s);
        w.WriteEndArray();
    }
}
