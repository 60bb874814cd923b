using System.Globalization;

namespace Era.Excel.Checking;

/// <summary>
/// Checks a student's iteration table: finds it in the workbook by its header row, reads or infers η, recomputes
/// every cell from its own row's values (weights from the row above) and reports the cells that disagree.
/// </summary>
public static class SheetChecker
{
    /// <summary>Spreadsheets keep 15–17 significant digits; anything within this is the same number.</summary>
    public const double RelativeTolerance = 1e-9;
    /// <summary>Floor for values near zero (an error term of 1e-14 is the rounding of a subtraction, not a mistake).</summary>
    public const double AbsoluteTolerance = 1e-12;

    private static readonly string[] Required = ["t1", "t2", "i1", "i2"];
    private static readonly string[] Optional = ["b1", "b2"];

    public static CheckReport Check(string path, string? sheetName = null, WorkbookLimits? limits = null) =>
        Check(SafeWorkbook.Read(path, limits), sheetName);

    public static CheckReport Check(byte[] xlsx, string? sheetName = null, WorkbookLimits? limits = null) =>
        Check(SafeWorkbook.Read(xlsx, limits), sheetName);

    public static bool Close(double found, double expected) =>
        Math.Abs(found - expected) <= RelativeTolerance * Math.Max(Math.Abs(found), Math.Abs(expected)) + AbsoluteTolerance;

    public static CheckReport Check(IReadOnlyList<SheetGrid> sheets, string? sheetName = null)
    {
        var layout = Locate(sheets, sheetName);
        var sheet = layout.Sheet;
        if (layout.DataRows.Count == 0)
            throw new SheetCheckException($"sheet '{sheet.Name}': found the header row (row {layout.HeaderRow}) but no numbers below it");
        var notes = new List<string>();

        // Inputs and targets may be columns or labelled cells ("t1" | 0.01); biases are optional.
        var constants = new Dictionary<string, LabelledCell>();
        foreach (var name in Required.Concat(Optional).Where(n => !layout.Has(n)))
        {
            string n = name;
            // A bias the table does not show is only taken from its own sheet: elsewhere "b1" may mean anything.
            var where = Required.Contains(n) ? sheets : [sheet];
            if (LabelledCell.Find(where, sheet, label => HeaderNames.Match(label) == n) is LabelledCell c)
            {
                constants[n] = c;
                notes.Add($"{n} = {F(c.Value)} from cell {c.Describe(sheet)}");
            }
            else if (Required.Contains(n))
            {
                throw new SheetCheckException(
                    $"sheet '{sheet.Name}': the table at {layout.Range} has no column {n} and no cell labelled {n} holds a number; "
                    + "the checker needs the inputs i1, i2 and targets t1, t2");
            }
        }

        var etaCell = LabelledCell.Find(sheets, sheet, LabelledCell.IsLearningRateLabel);
        if (etaCell is not null && !(etaCell.Value > 0))
        {
            notes.Add($"cell {etaCell.Describe(sheet)} labelled '{CheckReport.Clip(etaCell.Label)}' holds {F(etaCell.Value)}, not a learning rate > 0; ignored");
            etaCell = null;
        }
        RefuseUncalculated(layout, constants.Values.Append(etaCell));

        int n0 = layout.DataRows.Count;
        var probe = new TableModel(layout, constants, null, "η");
        var (estimate, agreeing, pairs) = InferLearningRate(probe, n0);
        // A learning rate steps downhill: an estimate ≤ 0 means the updates go uphill (w + η·g) or stand still (w − 0·g).
        double? inferred = estimate > 0 ? estimate : null;
        double? eta;
        string etaRef, source;
        bool disagrees = etaCell is not null && inferred is double y && agreeing * 2 > pairs && Math.Abs(y - etaCell.Value) > 1e-6 * etaCell.Value;
        if (disagrees && !ReferenceEquals(etaCell!.Sheet, sheet))
        {
            // A label on another sheet may well belong to something else (a comparison of rates): the updates decide.
            notes.Add($"cell {etaCell.Describe(sheet)} labelled '{CheckReport.Clip(etaCell.Label)}' says η = {F(etaCell.Value)}, "
                + $"but the updates use η = {F(inferred!.Value)}; checked with the latter");
            etaCell = null;
        }
        if (etaCell is not null)
        {
            (eta, etaRef, source) = (etaCell.Value, etaCell.Reference(sheet), $"cell {etaCell.Describe(sheet)}");
            if (disagrees)
                notes.Add($"the weight updates look like η = {F(inferred!.Value)}, but cell {etaCell.Describe(sheet)} says η = {F(etaCell.Value)}: "
                    + "do the update formulas refer to that cell?");
        }
        else
        {
            eta = inferred;
            etaRef = inferred is double x ? F(x) : "η";
            source = inferred is not null ? "inferred from the weight updates"
                : n0 < 2 ? "one row: no update to check"
                : "no usable labelled cell, and no η > 0 fits the weight updates: they do not step downhill";
            if (inferred is not null && agreeing < pairs)
                notes.Add($"η = {F(inferred.Value)} fits {agreeing} of {pairs} updates");
        }

        var model = new TableModel(layout, constants, eta, etaRef);
        var columns = layout.Columns.Where(kv => HeaderNames.Canonical.Contains(kv.Key)).OrderBy(kv => kv.Value).ToList();
        var findings = new List<(Finding F, int Col)>();
        // Without any η > 0 the updates cannot be recomputed, but they can still be seen not to step downhill.
        bool uphill = eta is null && n0 >= 2;
        foreach (var (name, col) in columns)
        {
            var found = uphill && name is ['w', _] ? CheckDirection(model, name, col) : CheckColumn(model, name, col);
            findings.AddRange(found.Select(f => (f, col)));
        }

        return new CheckReport
        {
            Sheet = sheet.Name,
            Table = layout.Range,
            Rows = n0,
            LearningRate = eta,
            LearningRateSource = source,
            CheckedColumns = columns.Select(kv => kv.Key).ToList(),
            MissingColumns = HeaderNames.Canonical.Where(c => !layout.Has(c) && !constants.ContainsKey(c) && !Optional.Contains(c)).ToList(),
            Notes = notes,
            Findings = findings.OrderBy(x => x.F.Row).ThenBy(x => x.Col).Select(x => x.F).ToList(),
        };
    }

    /// <summary>The sheet named, or the sheet whose table names the most columns.</summary>
    private static TableLayout Locate(IReadOnlyList<SheetGrid> sheets, string? sheetName)
    {
        const string Hint = "the checker looks for a header row naming the columns w1..w8 (and t1, t2, i1, i2, h1, a_h1, …)";
        if (sheetName is not null)
        {
            var sheet = sheets.FirstOrDefault(s => s.Name == sheetName)
                ?? sheets.FirstOrDefault(s => string.Equals(s.Name, sheetName, StringComparison.OrdinalIgnoreCase))
                ?? throw new SheetCheckException($"no sheet named '{sheetName}' (the sheets are: {string.Join(", ", sheets.Select(s => $"'{CheckReport.Clip(s.Name)}'"))})");
            return TableLayout.Find(sheet) ?? throw new SheetCheckException($"no iteration table in sheet '{sheet.Name}': {Hint}");
        }
        var found = sheets.Select(TableLayout.Find).OfType<TableLayout>().ToList();
        if (found.Count == 0)
            throw new SheetCheckException($"no iteration table in any sheet ({string.Join(", ", sheets.Select(s => $"'{CheckReport.Clip(s.Name)}'"))}): {Hint}");
        return found.OrderByDescending(l => l.Columns.Count).ThenByDescending(l => l.DataRows.Count).First();
    }

    /// <summary>A formula saved without its result cannot be checked without evaluating it, which the checker never does.</summary>
    private static void RefuseUncalculated(TableLayout layout, IEnumerable<LabelledCell?> cells)
    {
        var missing = new List<string>();
        foreach (int row in layout.DataRows)
            foreach (int col in layout.Columns.Values.Order())
                if (layout.Sheet[row, col] is { HasFormula: true, HasCachedValue: false })
                    missing.Add(A1.Address(row, col));
        foreach (var c in cells.OfType<LabelledCell>())
            if (c.Sheet[c.Row, c.Col] is { HasFormula: true, HasCachedValue: false })
                missing.Add(c.Describe(layout.Sheet));
        if (missing.Count > 0)
            throw new SheetCheckException(
                $"{missing.Count} formula cell{(missing.Count == 1 ? " has" : "s have")} no saved value (first: {missing[0]}): "
                + "the file was saved without calculating (by a script, or with manual calculation). "
                + "Open it in Excel or LibreOffice Calc, recalculate (Ctrl+Alt+F9 in Excel, Ctrl+Shift+F9 in Calc), save it as .xlsx and check again");
    }

    /// <summary>
    /// η from w(next) = w − η·g ⇒ η = (w − w(next))/g. Within a pair of consecutive rows, the median over the weights
    /// whose gradient is not tiny (tiny ones cancel badly), so one broken update column does not move it; then the
    /// median over all pairs, so a few broken rows do not either.
    /// </summary>
    private static (double? Eta, int Agreeing, int Pairs) InferLearningRate(TableModel m, int rows)
    {
        var etas = new List<double>();
        var pair = new List<(double G, double Eta)>();
        for (int i = 1; i < rows; i++)
        {
            pair.Clear();
            for (int k = 1; k <= 8; k++)
            {
                if (m.Value($"dE/dw{k}", i - 1) is double g && m.Value($"w{k}", i - 1) is double w && m.Found($"w{k}", i) is double next && g != 0)
                    pair.Add((Math.Abs(g), (w - next) / g));
            }
            if (pair.Count == 0) continue;
            double largest = pair.Max(p => p.G);
            var candidates = pair.Where(p => p.G >= 0.01 * largest && double.IsFinite(p.Eta)).Select(p => p.Eta).Order().ToList();
            // Signed: an update that goes uphill gives a negative estimate, one that changes nothing gives 0.
            if (candidates.Count > 0) etas.Add(candidates[candidates.Count / 2]);
        }
        if (etas.Count == 0) return (null, 0, 0);
        etas.Sort();
        double median = etas[etas.Count / 2];
        // 0.5 rather than 0.49999999999999994: round to 12 digits when that changes nothing the tolerance can see.
        double round = double.Parse(median.ToString("G12", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (Math.Abs(round - median) <= 1e-12 * Math.Abs(median)) median = round;
        int agreeing = etas.Count(e => Math.Abs(e - median) <= 1e-6 * Math.Abs(median));
        return (median, agreeing, rows - 1);
    }

    /// <summary>
    /// A weight column when no η > 0 fits the updates: each update should move the weight against its gradient,
    /// w(next) = w − η·g with η > 0, so (w − w(next))/g must be positive. Flags updates that go uphill or stand still.
    /// </summary>
    private static IEnumerable<Finding> CheckDirection(TableModel m, string name, int col)
    {
        var layout = m.Layout;
        var verdicts = new List<(int I, bool Wrong, double? Expected)>();
        if (layout.Sheet[layout.DataRows[0], col].Number is null) verdicts.Add((0, true, null)); // no initial weight
        for (int i = 1; i < layout.DataRows.Count; i++)
        {
            double? next = layout.Sheet[layout.DataRows[i], col].Number;
            bool wrong = next is null
                || (m.Value(name, i - 1) is double w && m.Value("dE/dw" + name[1], i - 1) is double g
                    && (g == 0 ? !Close(next.Value, w) : !((w - next.Value) / g > 0)));
            verdicts.Add((i, wrong, null));
        }
        return Runs(m, name, col, verdicts, i =>
        {
            double? next = layout.Sheet[layout.DataRows[i], col].Number;
            if (i == 0 || next is not double n || m.Value(name, i - 1) is not double w) return null;
            return Close(n, w)
                ? "the update does not change the weight; it should step downhill, w − η·∂E/∂w with η > 0"
                : "the update steps uphill (w + η·∂E/∂w?); it should be w − η·∂E/∂w with η > 0";
        });
    }

    private static IEnumerable<Finding> CheckColumn(TableModel m, string name, int col)
    {
        var layout = m.Layout;
        bool given = name is "t1" or "t2" or "i1" or "i2" or "b1" or "b2" || (name.Length == 2 && name[0] == 'w');
        var verdicts = new List<(int I, bool Wrong, double? Expected)>();
        for (int i = 0; i < layout.DataRows.Count; i++)
        {
            var cell = layout.Sheet[layout.DataRows[i], col];
            double? expected = m.Expected(name, i);
            if (cell.Number is double found)
            {
                if (expected is double e) verdicts.Add((i, !Close(found, e), e));
            }
            else if (expected is not null || (given && i == 0))
            {
                verdicts.Add((i, true, expected)); // text, an error value such as #DIV/0!, or empty
            }
        }
        return Runs(m, name, col, verdicts, _ => null);
    }

    private static IEnumerable<Finding> Runs(TableModel m, string name, int col, List<(int I, bool Wrong, double? Expected)> verdicts, Func<int, string?> why)
    {
        var layout = m.Layout;
        // Runs of consecutive wrong verdicts: the whole column, a stretch from some row on, or a single cell.
        for (int a = 0; a < verdicts.Count; a++)
        {
            if (!verdicts[a].Wrong) continue;
            int b = a;
            while (b + 1 < verdicts.Count && verdicts[b + 1].Wrong) b++;
            int count = b - a + 1;
            string kind = count == 1 ? FindingKind.Cell
                : a == 0 && b == verdicts.Count - 1 ? FindingKind.Column
                : FindingKind.FromRow;
            var (i, _, expected) = verdicts[a];
            int row = layout.DataRows[i];
            var cell = layout.Sheet[row, col];
            yield return new Finding(
                A1.Address(row, col), row, name, CheckReport.Clip(layout.Headers[name]), cell.Number, cell.Text is string t ? CheckReport.Clip(t) : null, expected,
                m.Formula(name, i), kind, count, A1.Address(layout.DataRows[verdicts[b].I], col), why(i));
            a = b;
        }
    }

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
