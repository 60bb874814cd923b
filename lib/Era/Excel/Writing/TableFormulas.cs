using Era.Backprop;

namespace Era.Excel.Writing;

/// <summary>
/// Where the iteration table sits on its sheet and the Excel formula of every cell, laid out as the course sheet:
/// η in B2, the header in row 4, iteration 1 in row 5, columns t1, t2, i1, i2, [b1, b2,] w1..w4, h1, … from A.
/// Every formula is written in the same evaluation order as <see cref="TwoLayerNetwork"/>, so a spreadsheet that
/// computes in IEEE doubles gets the same numbers to the last bit.
/// </summary>
public sealed class TableFormulas
{
    public const int EtaRow = 2;
    public const int HeaderRow = 4;
    public const int FirstRow = 5;

    /// <summary>The η cell of a table sheet, "$B$2".</summary>
    public static string Eta { get; } = CellRef.Absolute(1, EtaRow);

    private readonly Dictionary<string, int> _index;
    private readonly Func<string, string> _input;

    /// <param name="config">Decides whether the b1, b2 columns exist.</param>
    /// <param name="input">The front-sheet cell that holds a given input ("i1", "t2", "b1", "w3" for the initial w3, …).</param>
    public TableFormulas(NetworkConfig config, Func<string, string> input)
    {
        Columns = TableColumns.For(config);
        _index = Columns.Select((c, i) => (c.Name, i)).ToDictionary(p => p.Name, p => p.i);
        _input = input;
    }

    public IReadOnlyList<TableColumn> Columns { get; }

    public int IndexOf(string name) => _index[name];

    /// <summary>The formula (without '=') of column <paramref name="name"/> in sheet row <paramref name="row"/>.</summary>
    public string Formula(string name, int row)
    {
        string C(string n) => CellRef.Of(_index[n], row);
        string Bias(string b) => _index.ContainsKey(b) ? "+" + C(b) : "";
        string Sigmoid(string x) => $"1/(1+EXP(-{C(x)}))";
        // δo = (a_o − t)·a_o·(1 − a_o), spelled out so the products happen in the engine's order.
        string DeltaO(string ao, string t) => $"({C(ao)}-{C(t)})*{C(ao)}*(1-{C(ao)})";
        string DeltaH(string wa, string wb, string ah) =>
            $"({DeltaO("a_o1", "t1")}*{C(wa)}+{DeltaO("a_o2", "t2")}*{C(wb)})*{C(ah)}*(1-{C(ah)})";

        switch (name)
        {
            case "t1" or "t2" or "i1" or "i2" or "b1" or "b2":
                return _input(name);
            case "w1" or "w2" or "w3" or "w4" or "w5" or "w6" or "w7" or "w8":
                // Row 1 starts from the initial weights; every later row is the previous one after a step.
                if (row == FirstRow) return _input(name);
                int k = name[1] - '0';
                return $"{CellRef.Of(_index[name], row - 1)}-{Eta}*{CellRef.Of(_index[$"dE/dw{k}"], row - 1)}";
            case "h1": return $"{C("w1")}*{C("i1")}+{C("w2")}*{C("i2")}{Bias("b1")}";
            case "h2": return $"{C("w3")}*{C("i1")}+{C("w4")}*{C("i2")}{Bias("b1")}";
            case "o1": return $"{C("w5")}*{C("a_h1")}+{C("w6")}*{C("a_h2")}{Bias("b2")}";
            case "o2": return $"{C("w7")}*{C("a_h1")}+{C("w8")}*{C("a_h2")}{Bias("b2")}";
            case "a_h1": return Sigmoid("h1");
            case "a_h2": return Sigmoid("h2");
            case "a_o1": return Sigmoid("o1");
            case "a_o2": return Sigmoid("o2");
            case "E1": return $"0.5*({C("t1")}-{C("a_o1")})*({C("t1")}-{C("a_o1")})";
            case "E2": return $"0.5*({C("t2")}-{C("a_o2")})*({C("t2")}-{C("a_o2")})";
            case "E_tot": return $"{C("E1")}+{C("E2")}";
            case "dE/dw1": return $"{DeltaH("w5", "w7", "a_h1")}*{C("i1")}";
            case "dE/dw2": return $"{DeltaH("w5", "w7", "a_h1")}*{C("i2")}";
            case "dE/dw3": return $"{DeltaH("w6", "w8", "a_h2")}*{C("i1")}";
            case "dE/dw4": return $"{DeltaH("w6", "w8", "a_h2")}*{C("i2")}";
            case "dE/dw5": return $"{DeltaO("a_o1", "t1")}*{C("a_h1")}";
            case "dE/dw6": return $"{DeltaO("a_o1", "t1")}*{C("a_h2")}";
            case "dE/dw7": return $"{DeltaO("a_o2", "t2")}*{C("a_h1")}";
            case "dE/dw8": return $"{DeltaO("a_o2", "t2")}*{C("a_h2")}";
            default: throw new ArgumentException($"no formula for column '{name}'", nameof(name));
        }
    }
}
