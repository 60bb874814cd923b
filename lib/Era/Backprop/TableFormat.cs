using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Era.Backprop;

/// <summary>
/// The iteration table as text: CSV (k, then the spreadsheet's columns, round-trip numbers), markdown (rounded for
/// reading), and JSON (the config plus one object per row). Column names and order come from <see cref="TableColumns.For"/>.
/// The Write* methods stream: each row is written as it comes, so memory stays bounded however many rows there are.
/// </summary>
public static class TableFormat
{
    /// <summary>A number exactly as the table holds it: shortest round-trip form, invariant culture.</summary>
    public static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A number for reading (markdown): six significant digits, e.g. 0.298371 or 3.59998E-05.</summary>
    public static string Readable(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>Header line "k,t1,…", then one line per row; "\n" line ends.</summary>
    public static void WriteCsv(TextWriter output, NetworkConfig config, IEnumerable<IterationRow> rows)
    {
        var cols = TableColumns.For(config);
        output.Write("k,");
        output.Write(string.Join(",", cols.Select(c => c.Name)));
        output.Write('\n');
        foreach (var row in rows)
        {
            output.Write(row.Iteration.ToString(CultureInfo.InvariantCulture));
            foreach (var col in cols) { output.Write(','); output.Write(Number(col.Value(config, row))); }
            output.Write('\n');
        }
    }

    /// <summary>A markdown table: the iteration number k, then the CSV's columns, each number to six significant digits.</summary>
    public static void WriteMarkdown(TextWriter output, NetworkConfig config, IEnumerable<IterationRow> rows)
    {
        var cols = TableColumns.For(config);
        output.Write("| k | " + string.Join(" | ", cols.Select(c => c.Name)) + " |\n");
        output.Write("| ---: |" + string.Concat(cols.Select(_ => " ---: |")) + "\n");
        foreach (var row in rows)
        {
            output.Write("| ");
            output.Write(row.Iteration.ToString(CultureInfo.InvariantCulture));
            foreach (var col in cols) { output.Write(" | "); output.Write(Readable(col.Value(config, row))); }
            output.Write(" |\n");
        }
    }

    /// <summary>
    /// {"config": {i1, i2, t1, t2, b1, b2, weights: [w1..w8], learningRate, iterations}, "columns": [...],
    /// "rows": [{"k": 1, "t1": ..., ...}]}. Numbers round-trip (shortest form); one that is not finite is written as null.
    /// <paramref name="iterations"/> is the number of rows, stated in the config before they come.
    /// </summary>
    public static void WriteJson(TextWriter output, NetworkConfig config, int iterations, IEnumerable<IterationRow> rows)
    {
        var c = config;
        var cols = TableColumns.For(c);
        using var buffer = new MemoryStream();
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true });
        // Whole rows go through a small buffer to the writer; a row's tokens are complete, so no UTF-8 sequence is split.
        void Drain()
        {
            json.Flush();
            output.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            buffer.SetLength(0);
        }
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
        json.WriteNumber("iterations", iterations);
        json.WriteEndObject();
        json.WriteStartArray("columns");
        foreach (var col in cols) json.WriteStringValue(col.Name);
        json.WriteEndArray();
        json.WriteStartArray("rows");
        foreach (var row in rows)
        {
            json.WriteStartObject();
            json.WriteNumber("k", row.Iteration);
            foreach (var col in cols) Num(col.Name, col.Value(c, row));
            json.WriteEndObject();
            if (json.BytesPending + buffer.Length > 1 << 16) Drain();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        Drain();
        output.Write('\n');
    }

    public static string ToCsv(IterationTable table) => Capture(w => WriteCsv(w, table.Config, table.Rows));

    public static string ToMarkdown(IterationTable table) => Capture(w => WriteMarkdown(w, table.Config, table.Rows));

    public static string ToJson(IterationTable table) => Capture(w => WriteJson(w, table.Config, table.Rows.Count, table.Rows));

    private static string Capture(Action<TextWriter> write)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        write(w);
        return w.ToString();
    }
}
