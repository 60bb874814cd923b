using System.Globalization;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Era.Backprop;
using TableColumns = Era.Backprop.TableColumns;

namespace Era.Tests.Excel.Checking;

/// <summary>A cell for <see cref="XlsxBuilder"/>: a number, a text, or a formula with (or without) its cached value.</summary>
internal abstract record XCell;
internal sealed record XNumber(double Value) : XCell;
internal sealed record XText(string Value) : XCell;
internal sealed record XFormula(string Formula, double? Cached) : XCell;

/// <summary>Writes small .xlsx files with the OpenXML SDK, the way a student's spreadsheet program would save them.</summary>
internal sealed class XlsxBuilder
{
    private readonly List<(string Name, Dictionary<(int Row, int Col), XCell> Cells)> _sheets = [];

    /// <summary>Texts go to the shared-string table (as Excel saves them) rather than inline.</summary>
    public bool SharedStrings { get; init; } = true;

    public Dictionary<(int Row, int Col), XCell> Sheet(string name)
    {
        var found = _sheets.FirstOrDefault(s => s.Name == name);
        if (found.Cells is not null) return found.Cells;
        var cells = new Dictionary<(int, int), XCell>();
        _sheets.Add((name, cells));
        return cells;
    }

    public byte[] Build()
    {
        using var ms = new MemoryStream();
        using (var doc = SpreadsheetDocument.Create(ms, SpreadsheetDocumentType.Workbook))
        {
            var wb = doc.AddWorkbookPart();
            wb.Workbook = new Workbook();
            var sheets = wb.Workbook.AppendChild(new Sheets());
            var strings = new List<string>();
            uint id = 1;
            foreach (var (name, cells) in _sheets)
            {
                var part = wb.AddNewPart<WorksheetPart>();
                var data = new SheetData();
                foreach (var row in cells.GroupBy(kv => kv.Key.Row).OrderBy(g => g.Key))
                {
                    var r = new Row { RowIndex = (uint)row.Key };
                    foreach (var (key, value) in row.OrderBy(kv => kv.Key.Col))
                        r.Append(ToCell(A1(key.Row, key.Col), value, strings));
                    data.Append(r);
                }
                part.Worksheet = new Worksheet(data);
                sheets.Append(new Sheet { Id = wb.GetIdOfPart(part), SheetId = id++, Name = name });
            }
            if (strings.Count > 0)
            {
                var sst = wb.AddNewPart<SharedStringTablePart>();
                sst.SharedStringTable = new SharedStringTable(strings.Select(s => new SharedStringItem(new Text(s))));
            }
        }
        return ms.ToArray();
    }

    private Cell ToCell(string address, XCell value, List<string> strings) => value switch
    {
        XNumber n => new Cell { CellReference = address, CellValue = new CellValue(R(n.Value)) },
        XText t when SharedStrings => new Cell { CellReference = address, DataType = CellValues.SharedString, CellValue = new CellValue(Intern(strings, t.Value)) },
        XText t => new Cell { CellReference = address, DataType = CellValues.InlineString, InlineString = new InlineString(new Text(t.Value)) },
        XFormula f => new Cell
        {
            CellReference = address,
            CellFormula = new CellFormula(f.Formula.TrimStart('=')),
            CellValue = f.Cached is double v ? new CellValue(R(v)) : null,
        },
        _ => throw new ArgumentException("unknown cell", nameof(value)),
    };

    private static string Intern(List<string> strings, string s)
    {
        int k = strings.IndexOf(s);
        if (k < 0) { k = strings.Count; strings.Add(s); }
        return k.ToString(CultureInfo.InvariantCulture);
    }

    public static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public static string A1(int row, int col) => Era.Excel.A1.Address(row, col);
}

/// <summary>Where a student put η: label text, and the number to the right of it or below it, on the table's sheet or another.</summary>
internal sealed record EtaLabel(string Text = "η", bool Below = false, string? OnSheet = null, int Row = 1, int Col = 1);

/// <summary>
/// A student's iteration table: the values per row (canonical column → number) laid out as the student chose:
/// any start cell, any column order, any header spelling, values only or formulas with cached values.
/// </summary>
internal sealed record StudentWorkbook
{
    public required IReadOnlyList<Dictionary<string, double>> Rows { get; init; }
    public required double LearningRate { get; init; }
    public string SheetName { get; init; } = "Sheet1";
    public int HeaderRow { get; init; } = 1;
    public int FirstCol { get; init; } = 1;
    /// <summary>Canonical column names in the order the student placed them; default the course order.</summary>
    public IReadOnlyList<string>? Order { get; init; }
    public Func<string, string> Header { get; init; } = n => n;
    public bool Formulas { get; init; }
    /// <summary>Formulas saved without their results (a script wrote the file, nothing calculated it).</summary>
    public bool OmitCachedValues { get; init; }
    public EtaLabel? Eta { get; init; }
    public bool SharedStrings { get; init; } = true;
    /// <summary>Cells to overwrite after layout, by (data row index, canonical column): e.g. a text "#DIV/0!".</summary>
    public IReadOnlyDictionary<(int Index, string Column), XCell> Overrides { get; init; } = new Dictionary<(int, string), XCell>();
    public IReadOnlyDictionary<(int Row, int Col), XCell> Extra { get; init; } = new Dictionary<(int, int), XCell>();
    /// <summary>A column's formulas written by hand, by data row index (null: the value); e.g. a planted mistake for LibreOffice to compute.</summary>
    public IReadOnlyDictionary<string, Func<int, string?>> ColumnFormulas { get; init; } = new Dictionary<string, Func<int, string?>>();

    public IReadOnlyList<string> Columns => Order ?? Rows[0].Keys.ToList();

    public int ColumnOf(string name) => FirstCol + Columns.ToList().IndexOf(name);
    public int RowOf(int index) => HeaderRow + 1 + index;
    public string Cell(int index, string name) => XlsxBuilder.A1(RowOf(index), ColumnOf(name));

    public byte[] Build()
    {
        var book = new XlsxBuilder { SharedStrings = SharedStrings };
        var sheet = book.Sheet(SheetName);
        string? etaRef = null;
        if (Eta is EtaLabel e)
        {
            var s = book.Sheet(e.OnSheet ?? SheetName);
            s[(e.Row, e.Col)] = new XText(e.Text);
            var (r, c) = e.Below ? (e.Row + 1, e.Col) : (e.Row, e.Col + 1);
            s[(r, c)] = new XNumber(LearningRate);
            etaRef = (e.OnSheet is string other ? $"'{other}'!" : "") + $"${Era.Excel.A1.Column(c)}${r}";
        }
        foreach (var name in Columns) sheet[(HeaderRow, ColumnOf(name))] = new XText(Header(name));
        for (int i = 0; i < Rows.Count; i++)
        {
            foreach (var name in Columns)
            {
                double v = Rows[i][name];
                string? f = !Formulas ? null
                    : ColumnFormulas.TryGetValue(name, out var own) ? own(i)
                    : FormulaFor(name, i, etaRef ?? XlsxBuilder.R(LearningRate));
                sheet[(RowOf(i), ColumnOf(name))] = f is null ? new XNumber(v) : new XFormula(f, OmitCachedValues ? null : v);
            }
        }
        foreach (var ((i, name), cell) in Overrides) sheet[(RowOf(i), ColumnOf(name))] = cell;
        foreach (var (key, cell) in Extra) sheet[key] = cell;
        return book.Build();
    }

    /// <summary>The formula a careful student writes (it is stored, never evaluated by the checker).</summary>
    private string? FormulaFor(string name, int i, string eta)
    {
        string C(string n) => Columns.Contains(n) ? Cell(i, n) : "0";
        string P(string n) => Cell(i - 1, n);
        string D(int o) => $"({C($"a_o{o}")}-{C($"t{o}")})*{C($"a_o{o}")}*(1-{C($"a_o{o}")})";
        return name switch
        {
            "t1" or "t2" or "i1" or "i2" or "b1" or "b2" => i == 0 ? null : $"={P(name)}",
            ['w', var k] => i == 0 ? null : $"={P(name)}-{eta}*{P($"dE/dw{k}")}",
            "h1" => $"={C("w1")}*{C("i1")}+{C("w2")}*{C("i2")}+{C("b1")}",
            "h2" => $"={C("w3")}*{C("i1")}+{C("w4")}*{C("i2")}+{C("b1")}",
            "a_h1" or "a_h2" or "a_o1" or "a_o2" => $"=1/(1+EXP(-{C(name[2..])}))",
            "o1" => $"={C("w5")}*{C("a_h1")}+{C("w6")}*{C("a_h2")}+{C("b2")}",
            "o2" => $"={C("w7")}*{C("a_h1")}+{C("w8")}*{C("a_h2")}+{C("b2")}",
            "E1" => $"=0.5*({C("t1")}-{C("a_o1")})^2",
            "E2" => $"=0.5*({C("t2")}-{C("a_o2")})^2",
            "E_tot" => $"={C("E1")}+{C("E2")}",
            "dE/dw5" => $"={D(1)}*{C("a_h1")}",
            "dE/dw6" => $"={D(1)}*{C("a_h2")}",
            "dE/dw7" => $"={D(2)}*{C("a_h1")}",
            "dE/dw8" => $"={D(2)}*{C("a_h2")}",
            "dE/dw1" or "dE/dw2" => $"=({D(1)}*{C("w5")}+{D(2)}*{C("w7")})*{C("a_h1")}*(1-{C("a_h1")})*{C(name == "dE/dw1" ? "i1" : "i2")}",
            "dE/dw3" or "dE/dw4" => $"=({D(1)}*{C("w6")}+{D(2)}*{C("w8")})*{C("a_h2")}*(1-{C("a_h2")})*{C(name == "dE/dw3" ? "i1" : "i2")}",
            _ => null,
        };
    }
}

/// <summary>Tables of values for student workbooks: the numeric core's, or a simulated student's with a planted mistake.</summary>
internal static class StudentTables
{
    /// <summary>The correct table, straight from the numeric core (IterationTable + TableColumns).</summary>
    public static List<Dictionary<string, double>> Correct(NetworkConfig config, int rows)
    {
        var table = IterationTable.Run(config, rows);
        var columns = TableColumns.For(config);
        return table.Rows.Select(r => columns.ToDictionary(c => c.Name, c => c.Value(config, r))).ToList();
    }

    /// <summary>
    /// A spreadsheet filled row by row, each cell from the cells it refers to, as Excel would compute it. A planted
    /// mistake returns a different value for some (row, column); everything after it builds on the wrong value,
    /// just as in the student's live sheet. Written independently of the checker's own formulas.
    /// </summary>
    public static List<Dictionary<string, double>> Simulate(
        NetworkConfig c, int rows, Func<int, string, Dictionary<string, double>, Dictionary<string, double>?, double?>? plant = null)
    {
        var names = TableColumns.For(c).Select(x => x.Name).ToList();
        var result = new List<Dictionary<string, double>>();
        Dictionary<string, double>? prev = null;
        for (int i = 0; i < rows; i++)
        {
            var r = new Dictionary<string, double>();
            double S(double x) => 1 / (1 + Math.Exp(-x));
            double Dlt(int o) => (r[$"a_o{o}"] - r[$"t{o}"]) * r[$"a_o{o}"] * (1 - r[$"a_o{o}"]);
            foreach (var name in names)
            {
                double value = name switch
                {
                    "t1" => c.T1,
                    "t2" => c.T2,
                    "i1" => c.I1,
                    "i2" => c.I2,
                    "b1" => c.B1,
                    "b2" => c.B2,
                    ['w', var k] => prev is null ? c.Weights[k - '0'] : prev[name] - c.LearningRate * prev[$"dE/dw{k}"],
                    "h1" => r["w1"] * r["i1"] + r["w2"] * r["i2"] + r.GetValueOrDefault("b1", c.B1),
                    "h2" => r["w3"] * r["i1"] + r["w4"] * r["i2"] + r.GetValueOrDefault("b1", c.B1),
                    "a_h1" or "a_h2" or "a_o1" or "a_o2" => S(r[name[2..]]),
                    "o1" => r["w5"] * r["a_h1"] + r["w6"] * r["a_h2"] + r.GetValueOrDefault("b2", c.B2),
                    "o2" => r["w7"] * r["a_h1"] + r["w8"] * r["a_h2"] + r.GetValueOrDefault("b2", c.B2),
                    "E1" => 0.5 * Math.Pow(r["t1"] - r["a_o1"], 2),
                    "E2" => 0.5 * Math.Pow(r["t2"] - r["a_o2"], 2),
                    "E_tot" => r["E1"] + r["E2"],
                    "dE/dw5" => Dlt(1) * r["a_h1"],
                    "dE/dw6" => Dlt(1) * r["a_h2"],
                    "dE/dw7" => Dlt(2) * r["a_h1"],
                    "dE/dw8" => Dlt(2) * r["a_h2"],
                    "dE/dw1" => (Dlt(1) * r["w5"] + Dlt(2) * r["w7"]) * r["a_h1"] * (1 - r["a_h1"]) * r["i1"],
                    "dE/dw2" => (Dlt(1) * r["w5"] + Dlt(2) * r["w7"]) * r["a_h1"] * (1 - r["a_h1"]) * r["i2"],
                    "dE/dw3" => (Dlt(1) * r["w6"] + Dlt(2) * r["w8"]) * r["a_h2"] * (1 - r["a_h2"]) * r["i1"],
                    "dE/dw4" => (Dlt(1) * r["w6"] + Dlt(2) * r["w8"]) * r["a_h2"] * (1 - r["a_h2"]) * r["i2"],
                    _ => throw new ArgumentException(name),
                };
                r[name] = value; // the plant sees the right value in r[name] and may return another
                r[name] = plant?.Invoke(i, name, r, prev) ?? value;
            }
            result.Add(r);
            prev = r;
        }
        return result;
    }
}
