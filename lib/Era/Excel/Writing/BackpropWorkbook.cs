using System.Globalization;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Era.Backprop;
using Era.IO;

namespace Era.Excel.Writing;

/// <summary>
/// The course workbook of the 2-2-2 network, written as a live spreadsheet:
/// <list type="bullet">
/// <item><b>Network</b>: the network, its equations and gradients as text, and the inputs, targets, initial weights
/// and η as yellow input cells.</item>
/// <item><b>Table</b>: one row per iteration, every computed cell a formula of those inputs, plus a chart of E_tot.</item>
/// <item><b>Compare</b>: one E_tot column per learning rate (yellow cells in row 2) and a chart of all of them, fed by
/// one sheet per rate (<b>η=0.1</b>, …) laid out like Table.</item>
/// </list>
/// Every formula cell also stores the value <see cref="TwoLayerNetwork"/> computed, so viewers that do not
/// recalculate show the right numbers; a spreadsheet that does recalculate gets the same doubles.
/// </summary>
public static class BackpropWorkbook
{
    public const string FrontSheet = "Network";
    public const string TableSheet = "Table";
    public const string CompareSheet = "Compare";

    /// <summary>More rows make a workbook no spreadsheet opens comfortably.</summary>
    public const int MaxIterations = 10_000;

    public const int MaxLearningRates = 16;

    /// <summary>The row of Compare that holds the learning rates (B2, C2, …), one per rate sheet.</summary>
    public const int CompareRateRow = 2;

    private const int FrontFirstInputRow = 5;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The sheet that runs the table at learning rate <paramref name="learningRate"/>: "η=0.1".</summary>
    public static string RateSheet(double learningRate) => "η=" + learningRate.ToString("R", Inv);

    /// <summary>The names of the front sheet's input cells, top to bottom: i1, i2, t1, t2, w1..w8, eta[, b1, b2].</summary>
    public static IReadOnlyList<string> InputNames(NetworkConfig config)
    {
        var names = new List<string> { "i1", "i2", "t1", "t2" };
        names.AddRange(Weights.Names);
        names.Add("eta");
        if (config.HasBiases) names.AddRange(["b1", "b2"]);
        return names;
    }

    /// <summary>The address on the front sheet of input <paramref name="name"/> (see <see cref="InputNames"/>), e.g. "B17" for eta.</summary>
    public static string InputCell(NetworkConfig config, string name)
    {
        int i = InputNames(config).ToList().IndexOf(name);
        if (i < 0) throw new ArgumentException($"no input cell named '{name}'", nameof(name));
        return CellRef.Of(1, FrontFirstInputRow + i);
    }

    /// <summary>An input cell as formulas refer to it: "Network!$B$17".</summary>
    private static string FrontRef(NetworkConfig config, string name) =>
        $"{FrontSheet}!{CellRef.Absolute(1, FrontFirstInputRow + InputNames(config).ToList().IndexOf(name))}";

    /// <summary>Writes the workbook to <paramref name="path"/> atomically: on failure no file and no temporary file is left.</summary>
    public static void WriteFile(string path, NetworkConfig config, int iterations = IterationTable.DefaultIterations,
        IReadOnlyList<double>? learningRates = null)
    {
        Check(config, iterations, learningRates ?? LearningRateSweep.DefaultRates); // before any file is touched
        AtomicFile.Write(path, stream => Write(stream, config, iterations, learningRates));
    }

    /// <summary>Writes the workbook (.xlsx) to a seekable, writable stream.</summary>
    public static void Write(Stream stream, NetworkConfig config, int iterations = IterationTable.DefaultIterations,
        IReadOnlyList<double>? learningRates = null)
    {
        var rates = learningRates ?? LearningRateSweep.DefaultRates;
        Check(config, iterations, rates);
        var table = IterationTable.Run(config, iterations);
        var sweep = LearningRateSweep.Run(config, rates, iterations);

        using var doc = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook);
        doc.CompressionOption = System.IO.Packaging.CompressionOption.Fast; // half the time of Normal for a file 1.5× as big
        var book = doc.AddWorkbookPart();
        book.AddNewPart<WorkbookStylesPart>().Stylesheet = Styles.Create();
        var strings = new SharedStrings();
        var sheets = new List<(string Name, WorksheetPart Part)>();
        WorksheetPart NewSheet(string name)
        {
            var part = book.AddNewPart<WorksheetPart>();
            sheets.Add((name, part));
            return part;
        }

        WriteFront(NewSheet(FrontSheet), strings, config);
        WriteTable(NewSheet(TableSheet), strings, table, FrontRef(config, "eta"),
            $"Gradient descent, one row per iteration. η comes from {FrontSheet}!{InputCell(config, "eta")}; "
            + "every other cell is a formula of the inputs there.", withChart: true);
        var compare = NewSheet(CompareSheet);
        for (int j = 0; j < rates.Count; j++)
        {
            string eta = $"{CompareSheet}!{CellRef.Of(1 + j, CompareRateRow)}";
            WriteTable(NewSheet(RateSheet(rates[j])), strings, sweep[j], eta,
                $"The table of sheet {TableSheet}, run at the learning rate in {eta} (one column of {CompareSheet}).", withChart: false);
        }
        WriteCompare(compare, strings, config, sweep);

        strings.WriteTo(book);
        book.Workbook = new Workbook(
            new BookViews(new WorkbookView { ActiveTab = 0 }),
            new Sheets(sheets.Select((s, i) => new Sheet { Name = s.Name, SheetId = (uint)(i + 1), Id = book.GetIdOfPart(s.Part) })),
            // Spreadsheets that honour it (Excel) recompute everything on opening: the formulas, not our cache, have the last word.
            new CalculationProperties { CalculationId = 191029, FullCalculationOnLoad = true });
        book.Workbook.AddNamespaceDeclaration("r", "http://schemas.openxmlformats.org/officeDocument/2006/relationships");
    }

    private static void Check(NetworkConfig config, int iterations, IReadOnlyList<double> rates)
    {
        config.Validate();
        if (iterations < 1 || iterations > MaxIterations)
            throw new ArgumentOutOfRangeException(nameof(iterations), iterations, $"iterations must be between 1 and {MaxIterations}");
        if (rates.Count < 1 || rates.Count > MaxLearningRates)
            throw new ArgumentException($"expected 1 to {MaxLearningRates} learning rates, got {rates.Count}", nameof(rates));
        foreach (double r in rates)
            if (!double.IsFinite(r) || r <= 0) throw new ArgumentException($"every learning rate must be > 0, got {r.ToString("R", Inv)}", nameof(rates));
        var duplicate = rates.GroupBy(r => r).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"learning rate {duplicate.Key.ToString("R", Inv)} is listed twice", nameof(rates));
    }

    private static void WriteFront(WorksheetPart part, SharedStrings strings, NetworkConfig c)
    {
        using var s = new SheetWriter(part, strings, frozenRows: 0, [(0, 8), (1, 14), (2, 44), (3, 3), (4, 90)]);
        var text = FrontText(c);
        var inputs = InputNames(c);
        int lastRow = Math.Max(FrontFirstInputRow + inputs.Count - 1, FrontFirstInputRow - 1 + text.Count);
        for (int row = 1; row <= lastRow; row++)
        {
            s.Row(row);
            if (row == 1) s.Text(0, 1, "Backprop by hand: the 2-2-2 network", Styles.Title);
            if (row == 2)
                s.Text(0, 2, "Change a yellow cell: every table and chart in this workbook follows. "
                    + "Values shown before a recalculation were computed by era.", Styles.Note);
            if (row == FrontFirstInputRow - 1)
            {
                s.Text(0, row, "input", Styles.Header);
                s.Text(1, row, "value", Styles.Header);
                s.Text(2, row, "meaning", Styles.Header);
            }
            int i = row - FrontFirstInputRow;
            if (i >= 0 && i < inputs.Count)
            {
                string name = inputs[i];
                var (label, value, meaning) = name switch
                {
                    "i1" => ("i1", c.I1, "input 1"),
                    "i2" => ("i2", c.I2, "input 2"),
                    "t1" => ("t1", c.T1, "target for output 1"),
                    "t2" => ("t2", c.T2, "target for output 2"),
                    "eta" => ("η", c.LearningRate, "learning rate of sheet " + TableSheet),
                    "b1" => ("b1", c.B1, "fixed bias added to h1 and h2 (not trained)"),
                    "b2" => ("b2", c.B2, "fixed bias added to o1 and o2 (not trained)"),
                    _ => (name, c.Weights[name[1] - '0'], "initial weight " + name),
                };
                s.Text(0, row, label, Styles.Label);
                s.Number(1, row, value, Styles.Input);
                s.Text(2, row, meaning, Styles.Note);
            }
            int t = row - (FrontFirstInputRow - 1);
            if (t >= 0 && t < text.Count && text[t].Length > 0)
                s.Text(4, row, text[t], text[t].EndsWith(':') ? Styles.Label : Styles.Formula);
        }
        s.Finish(drawingId: null);
    }

    /// <summary>The network, its forward pass and the chain-rule gradients, as the course sheet states them.</summary>
    private static List<string> FrontText(NetworkConfig c)
    {
        string b1 = c.HasBiases ? " + b1" : "", b2 = c.HasBiases ? " + b2" : "";
        return
        [
            "The network:",
            "i1, i2 → hidden h1, h2 (sigmoid) → outputs o1, o2 (sigmoid); error E_total = E1 + E2",
            "w1, w2: i1, i2 → h1    w3, w4: i1, i2 → h2    w5, w6: a_h1, a_h2 → o1    w7, w8: a_h1, a_h2 → o2",
            "",
            "Forward pass (one row of the table):",
            $"h1 = w1·i1 + w2·i2{b1}          a_h1 = σ(h1) = 1/(1 + e^(−h1))",
            $"h2 = w3·i1 + w4·i2{b1}          a_h2 = σ(h2)",
            $"o1 = w5·a_h1 + w6·a_h2{b2}      a_o1 = σ(o1)",
            $"o2 = w7·a_h1 + w8·a_h2{b2}      a_o2 = σ(o2)",
            "E1 = ½(t1 − a_o1)²    E2 = ½(t2 − a_o2)²    E_tot = E1 + E2",
            "",
            "Gradients (chain rule; σ'(x) = σ(x)·(1 − σ(x))):",
            "δo1 = (a_o1 − t1)·a_o1·(1 − a_o1)    δo2 = (a_o2 − t2)·a_o2·(1 − a_o2)",
            "∂E/∂w1 = (δo1·w5 + δo2·w7)·a_h1·(1 − a_h1)·i1",
            "∂E/∂w2 = (δo1·w5 + δo2·w7)·a_h1·(1 − a_h1)·i2",
            "∂E/∂w3 = (δo1·w6 + δo2·w8)·a_h2·(1 − a_h2)·i1",
            "∂E/∂w4 = (δo1·w6 + δo2·w8)·a_h2·(1 − a_h2)·i2",
            "∂E/∂w5 = δo1·a_h1",
            "∂E/∂w6 = δo1·a_h2",
            "∂E/∂w7 = δo2·a_h1",
            "∂E/∂w8 = δo2·a_h2",
            "",
            "Update (next row): w ← w − η·∂E/∂w",
        ];
    }

    private static void WriteTable(WorksheetPart part, SharedStrings strings, IterationTable table, string etaSource,
        string title, bool withChart)
    {
        var config = table.Config;
        var f = new TableFormulas(config, name => FrontRef(config, name));
        var cols = f.Columns;
        int first = TableFormulas.FirstRow, last = first + table.Rows.Count - 1;
        int eTot = f.IndexOf("E_tot");

        string? drawingId = null;
        var chart = new ChartPlace(cols.Count + 1, TableFormulas.HeaderRow - 1, cols.Count + 12, TableFormulas.HeaderRow + 22);
        if (withChart)
        {
            string range = $"{CellRef.Sheet(TableSheet)}!{CellRef.Absolute(eTot, first)}:{CellRef.Absolute(eTot, last)}";
            drawingId = Charts.AddLineChart(part, chart,
                "E_total over iterations", "iteration", "E_total", categoriesRef: null, categories: null,
                [new ChartSeries($"{CellRef.Sheet(TableSheet)}!{CellRef.Absolute(eTot, TableFormulas.HeaderRow)}", "E_tot", range, table.Losses())]);
        }

        using var s = new SheetWriter(part, strings, TableFormulas.HeaderRow,
            cols.Select((c, i) => (i, Styles.ForColumn(c.Name) == Styles.Scientific ? 14.0 : 12.5)));
        s.Row(1);
        s.Text(0, 1, title, Styles.Note);
        s.Row(TableFormulas.EtaRow);
        s.Text(0, TableFormulas.EtaRow, "η", Styles.Label);
        s.Formula(1, TableFormulas.EtaRow, etaSource, table.LearningRate);
        s.Row(TableFormulas.HeaderRow);
        for (int i = 0; i < cols.Count; i++) s.Text(i, TableFormulas.HeaderRow, cols[i].Name, Styles.Header);
        for (int k = 0; k < table.Rows.Count; k++)
        {
            int row = first + k;
            s.Row(row);
            for (int i = 0; i < cols.Count; i++)
                s.Formula(i, row, f.Formula(cols[i].Name, row), cols[i].Value(config, table.Rows[k]), Styles.ForColumn(cols[i].Name));
        }
        s.Finish(drawingId, withChart ? chart.FromColumn : null);
    }

    private static void WriteCompare(WorksheetPart part, SharedStrings strings, NetworkConfig config, IReadOnlyList<IterationTable> sweep)
    {
        int n = sweep[0].Rows.Count, first = TableFormulas.FirstRow, header = TableFormulas.HeaderRow;
        var eTot = CellRef.Column(new TableFormulas(config, _ => "").IndexOf("E_tot"));
        string Name(double lr) => "E_tot, η=" + lr.ToString("G15", Inv); // as a spreadsheet prints a number in text

        var series = sweep.Select((t, j) => new ChartSeries(
            $"{CompareSheet}!{CellRef.Absolute(1 + j, header)}", Name(t.LearningRate),
            $"{CompareSheet}!{CellRef.Absolute(1 + j, first)}:{CellRef.Absolute(1 + j, first + n - 1)}", t.Losses())).ToList();
        var chart = new ChartPlace(sweep.Count + 2, 1, sweep.Count + 14, 26);
        string drawingId = Charts.AddLineChart(part, chart,
            "E_total by learning rate", "iteration", "E_total",
            $"{CompareSheet}!{CellRef.Absolute(0, first)}:{CellRef.Absolute(0, first + n - 1)}",
            Enumerable.Range(1, n).Select(k => (double)k).ToList(), series);

        using var s = new SheetWriter(part, strings, header, Enumerable.Range(0, sweep.Count + 1).Select(i => (i, i == 0 ? 10.0 : 16.0)));
        s.Row(1);
        s.Text(0, 1, "E_total at each learning rate: change a yellow η and its column, its sheet and the chart follow.", Styles.Note);
        s.Row(CompareRateRow);
        s.Text(0, CompareRateRow, "η", Styles.Label);
        for (int j = 0; j < sweep.Count; j++) s.Number(1 + j, CompareRateRow, sweep[j].LearningRate, Styles.Input);
        s.Row(header);
        s.Text(0, header, "iteration", Styles.Header);
        for (int j = 0; j < sweep.Count; j++)
            s.TextFormula(1 + j, header, $"\"E_tot, η=\"&{CellRef.Of(1 + j, CompareRateRow)}", Name(sweep[j].LearningRate), Styles.Header);
        for (int k = 0; k < n; k++)
        {
            int row = first + k;
            s.Row(row);
            s.Number(0, row, k + 1, Styles.Integer);
            for (int j = 0; j < sweep.Count; j++)
                s.Formula(1 + j, row, $"{CellRef.Sheet(RateSheet(sweep[j].LearningRate))}!{eTot}{row}", sweep[j].Rows[k].Forward.ETotal, Styles.Scientific);
        }
        s.Finish(drawingId, chart.FromColumn);
    }
}
