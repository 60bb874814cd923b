namespace Era.Excel.Checking;

/// <summary>
/// One cell as stored in the file: the cached number or text, and whether a formula produced it.
/// The checker never evaluates formulas; it only reads what the spreadsheet program saved.
/// </summary>
public readonly record struct SheetCell(double? Number, string? Text, bool HasFormula, bool HasCachedValue);

/// <summary>The cells of one worksheet, addressed by 1-based row and column as in Excel.</summary>
public sealed class SheetGrid(string name)
{
    private readonly Dictionary<(int Row, int Col), SheetCell> _cells = [];

    public string Name { get; } = name;
    public int MaxRow { get; private set; }

    public SheetCell this[int row, int col] => _cells.TryGetValue((row, col), out var c) ? c : default;

    public void Set(int row, int col, SheetCell cell)
    {
        _cells[(row, col)] = cell;
        MaxRow = Math.Max(MaxRow, row);
    }

    public IEnumerable<(int Row, int Col, SheetCell Cell)> Cells =>
        _cells.Select(kv => (kv.Key.Row, kv.Key.Col, kv.Value));
}
