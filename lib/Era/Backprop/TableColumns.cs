namespace Era.Backprop;

/// <summary>One column of the iteration table: its canonical name (as in the CSV header) and how to read it off a row.</summary>
public sealed record TableColumn(string Name, Func<NetworkConfig, IterationRow, double> Value);

/// <summary>
/// The course spreadsheet's columns, in its order. Shared by the CSV/markdown/JSON output, the Excel workbook and
/// the sheet checker so all three agree on names and order.
/// </summary>
public static class TableColumns
{
    /// <summary>t1, t2, i1, i2, [b1, b2,] w1..w4, h1, a_h1, h2, a_h2, w5..w8, o1, a_o1, o2, a_o2, E1, E2, E_tot, dE/dw1..dE/dw8.</summary>
    public static IReadOnlyList<TableColumn> For(NetworkConfig config)
    {
        var cols = new List<TableColumn>
        {
            new("t1", (c, _) => c.T1), new("t2", (c, _) => c.T2),
            new("i1", (c, _) => c.I1), new("i2", (c, _) => c.I2),
        };
        if (config.HasBiases)
        {
            cols.Add(new("b1", (c, _) => c.B1));
            cols.Add(new("b2", (c, _) => c.B2));
        }
        for (int k = 1; k <= 4; k++) { int j = k; cols.Add(new($"w{j}", (_, r) => r.Weights[j])); }
        cols.Add(new("h1", (_, r) => r.Forward.H1));
        cols.Add(new("a_h1", (_, r) => r.Forward.AH1));
        cols.Add(new("h2", (_, r) => r.Forward.H2));
        cols.Add(new("a_h2", (_, r) => r.Forward.AH2));
        for (int k = 5; k <= 8; k++) { int j = k; cols.Add(new($"w{j}", (_, r) => r.Weights[j])); }
        cols.Add(new("o1", (_, r) => r.Forward.O1));
        cols.Add(new("a_o1", (_, r) => r.Forward.AO1));
        cols.Add(new("o2", (_, r) => r.Forward.O2));
        cols.Add(new("a_o2", (_, r) => r.Forward.AO2));
        cols.Add(new("E1", (_, r) => r.Forward.E1));
        cols.Add(new("E2", (_, r) => r.Forward.E2));
        cols.Add(new("E_tot", (_, r) => r.Forward.ETotal));
        for (int k = 1; k <= 8; k++) { int j = k; cols.Add(new($"dE/dw{j}", (_, r) => r.Gradients[j])); }
        return cols;
    }
}
