using System.Globalization;

namespace Era.Excel.Checking;

/// <summary>Where the iteration table sits in a sheet: its header row, the column of each canonical name, its data rows.</summary>
public sealed class TableLayout
{
    public SheetGrid Sheet { get; }
    public int HeaderRow { get; }
    /// <summary>Canonical name → sheet column (1-based), for the columns the sheet has.</summary>
    public IReadOnlyDictionary<string, int> Columns { get; }
    /// <summary>Canonical name → the header as the student wrote it.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }
    /// <summary>Sheet row of each iteration, top to bottom.</summary>
    public IReadOnlyList<int> DataRows { get; }

    private TableLayout(SheetGrid sheet, int headerRow, Dictionary<string, int> columns, Dictionary<string, string> headers, List<int> rows)
    {
        Sheet = sheet; HeaderRow = headerRow; Columns = columns; Headers = headers; DataRows = rows;
    }

    public bool Has(string name) => Columns.ContainsKey(name);

    public string Range => A1.Address(HeaderRow, Columns.Values.Min()) + ":" + A1.Address(DataRows.Count > 0 ? DataRows[^1] : HeaderRow, Columns.Values.Max());

    private static readonly string[] WeightNames = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"];

    /// <summary>
    /// The header row naming the most course columns among the rows that name all eight weights; null when none does.
    /// Data starts below it (a unit or note row or two may sit in between) and ends at the first row without any weight.
    /// </summary>
    public static TableLayout? Find(SheetGrid sheet)
    {
        var byRow = new Dictionary<int, List<(int Col, string Name, string Text)>>();
        foreach (var (row, col, cell) in sheet.Cells)
        {
            if (cell.Text is null || HeaderNames.Match(cell.Text) is not string name) continue;
            if (!byRow.TryGetValue(row, out var list)) byRow[row] = list = [];
            list.Add((col, name, cell.Text));
        }
        int bestRow = 0, bestScore = 0;
        Dictionary<string, int>? best = null;
        Dictionary<string, string>? bestHeaders = null;
        foreach (var (row, list) in byRow.OrderBy(kv => kv.Key))
        {
            var cols = new Dictionary<string, int>();
            var headers = new Dictionary<string, string>();
            foreach (var (col, name, text) in list.OrderBy(x => x.Col))
            {
                if (cols.TryAdd(name, col)) headers[name] = text; // the first of two same-named columns counts
            }
            if (!WeightNames.All(cols.ContainsKey) || cols.Count <= bestScore) continue;
            (bestRow, bestScore, best, bestHeaders) = (row, cols.Count, cols, headers);
        }
        if (best is null || bestHeaders is null) return null;

        var weightCols = WeightNames.Select(n => best[n]).ToArray();
        bool HasWeights(int r) => weightCols.Any(c => sheet[r, c] is { } x && (x.Number is not null || x.HasFormula));
        var rows = new List<int>();
        int start = bestRow + 1;
        for (int skip = 0; skip < 3 && start <= sheet.MaxRow && !HasWeights(start); skip++) start++;
        for (int r = start; r <= sheet.MaxRow && HasWeights(r); r++) rows.Add(r);
        return new TableLayout(sheet, bestRow, best, bestHeaders, rows);
    }
}

/// <summary>A number the sheet gives by a label beside or above it ("η" | 0.5), such as the learning rate.</summary>
public sealed record LabelledCell(SheetGrid Sheet, int Row, int Col, string Label, double Value)
{
    public string Address => A1.Address(Row, Col);

    /// <summary>An absolute reference to it from <paramref name="from"/>: $B$2, or 'Front'!$B$2 on another sheet.</summary>
    public string Reference(SheetGrid from) => A1.Absolute(Row, Col, ReferenceEquals(from, Sheet) ? null : Sheet.Name);

    public string Describe(SheetGrid from) => ReferenceEquals(from, Sheet) ? Address : A1.SheetPrefix(Sheet.Name) + Address;

    /// <summary>
    /// The first label that <paramref name="isLabel"/> accepts (given the normalised label text), searching
    /// <paramref name="first"/> and then the other sheets, row by row. The number is the cell to the right of the
    /// label, else the cell below it, else written into the label itself ("η = 0.5").
    /// </summary>
    public static LabelledCell? Find(IReadOnlyList<SheetGrid> sheets, SheetGrid first, Func<string, bool> isLabel)
    {
        foreach (var sheet in sheets.Where(s => ReferenceEquals(s, first)).Concat(sheets.Where(s => !ReferenceEquals(s, first))))
        {
            foreach (var (row, col, cell) in sheet.Cells.Where(c => c.Cell.Text is { Length: > 0 and <= 64 }).OrderBy(c => c.Row).ThenBy(c => c.Col))
            {
                string text = cell.Text!;
                int eq = text.IndexOf('=', StringComparison.Ordinal);
                string label = eq >= 0 ? text[..eq] : text;
                if (!isLabel(HeaderNames.Normalize(label).TrimEnd('='))) continue;
                if (sheet[row, col + 1].Number is double right) return new(sheet, row, col + 1, text, right);
                if (sheet[row + 1, col].Number is double below) return new(sheet, row + 1, col, text, below);
                if (eq >= 0 && double.TryParse(text[(eq + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double inLabel)
                    && double.IsFinite(inLabel))
                    return new(sheet, row, col, text, inLabel);
            }
        }
        return null;
    }

    private static readonly HashSet<string> LearningRateLabels =
    [
        "η", "eta", "lr", "α", "alpha", "learningrate", "stepsize",
        "learningrateη", "learningrateeta", "learningratelr", "learningrateα", "learningratealpha",
        "ηlearningrate", "etalearningrate", "lrlearningrate", "αlearningrate",
    ];

    /// <summary>η, eta, LR, alpha, α, learning rate, "learning rate (η)", "η:" … (normalised, parentheses ignored).</summary>
    public static bool IsLearningRateLabel(string normalized) =>
        LearningRateLabels.Contains(normalized.Replace("(", "", StringComparison.Ordinal).Replace(")", "", StringComparison.Ordinal));
}
