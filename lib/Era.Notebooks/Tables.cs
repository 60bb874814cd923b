using Era.Backprop;
using Microsoft.Data.Analysis;

namespace Era.Notebooks;

/// <summary>The course's tables as Microsoft.Data.Analysis <see cref="DataFrame"/>s (its kernel extension shows them).</summary>
public static class Tables
{
    /// <summary>
    /// The spreadsheet: one row per iteration k = 0, 1, …, the columns of <see cref="TableColumns"/> in the course's
    /// order (t1 … E_tot, dE/dw1 … dE/dw8), exactly the numbers `era backprop` and the workbook hold.
    /// </summary>
    public static DataFrame ToDataFrame(IterationTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var columns = TableColumns.For(table.Config);
        var frame = new DataFrame(new Int32DataFrameColumn("k", table.Rows.Select(r => r.Iteration)));
        foreach (var c in columns)
            frame.Columns.Add(new DoubleDataFrameColumn(c.Name, table.Rows.Select(r => c.Value(table.Config, r))));
        return frame;
    }
}
