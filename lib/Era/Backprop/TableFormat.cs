using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Era.Backprop;

/// <summary>
/// The iteration table as text: CSV (the spreadsheet's columns, round-trip numbers), markdown, and JSON
/// (the config plus one object per row). Column names and order come from <see cref="TableColumns.For"/>.
/// </summary>
public static class TableFormat
{
    /// <summary>A number exactly as the table holds it: shortest round-trip form, invariant culture.</summary>
    public static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Header line, then one line per row; "\n" line ends.</summary>
    public static string ToCsv(IterationTable table)
    {
        var cols = TableColumns.For(table.Config);
        var sb = new StringBuilder();
        sb.Append(string.Join(",", cols.Select(c => c.Name))).Append('\n');
        foreach (var row in table.Rows)
            sb.Append(string.Join(",", cols.Select(c => Number(c.Value(table.Config, row))))).Append('\n');
        return sb.ToString();
    }

    /// <summary>A markdown table: the iteration number k, then the CSV's columns.</summary>
    public static string ToMarkdown(IterationTable table)
    {
        var cols = TableColumns.For(table.Config);
        var sb = new StringBuilder();
        sb.Append("| k | ").Append(string.Join(" | ", cols.Select(c => c.Name))).Append(" |\n");
        sb.Append("| ---: |").Append(string.Concat(cols.Select(_ => " ---: |"))).Append('\n');
        foreach (var row in table.Rows)
        {
            sb.Append("| ").Append(row.Iteration).Append(" | ")
              .Append(string.Join(" | ", cols.Select(c => Number(c.Value(table.Config, row))))).Append(" |\n");
        }
        return sb.ToString();
    }

    /// <summary>
    /// {"config": {i1, i2, t1, t2, b1, b2, weights: [w1..w8], learningRate, iterations}, "columns": [...],
    /// "rows": [{"k": 1, "t1": ..., ...}]}. Numbers round-trip (shortest form); one that is not finite is written as null.
    /// </summary>
    public static string ToJson(IterationTable table)
    {
        var c = table.Config;
        var cols = TableColumns.For(c);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            void Num(string name, double v)
            {
                json.WritePropertyName(name);
                if (double.IsFinite(v)) json.WriteNumberValue(v); else json.WriteNullValue();
            }
            json.WriteStartObject();
            json.WriteStartObject("config");
            Num("i1", c.I1); Num("i2", c.I2); Num("t1", c.T1); Num("t2", c.T2); Num("b1", c.B1); Num("b2", c.B2);
            json.WriteStartArray("weights");
            foreach (var w in c.Weights.ToArray()) json.WriteNumberValue(w);
            json.WriteEndArray();
            Num("learningRate", c.LearningRate);
            json.WriteNumber("iterations", table.Rows.Count);
            json.WriteEndObject();
            json.WriteStartArray("columns");
            foreach (var col in cols) json.WriteStringValue(col.Name);
            json.WriteEndArray();
            json.WriteStartArray("rows");
            foreach (var row in table.Rows)
            {
                json.WriteStartObject();
                json.WriteNumber("k", row.Iteration);
                foreach (var col in cols) Num(col.Name, col.Value(c, row));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
