using System.Globalization;
using Era.Backprop;

namespace Era.Excel.Checking;

/// <summary>
/// What every cell of the table should hold, computed from the values found in the same row (and, for a weight,
/// the row above). Checking each cell against its own row's found inputs puts the blame on the cell where an error
/// starts: a column that is consistent with a wrong value upstream is not flagged again.
/// A column the sheet lacks is computed in its place, and inlined into the formulas that would refer to it.
/// </summary>
internal sealed class TableModel(TableLayout layout, IReadOnlyDictionary<string, LabelledCell> constants, double? learningRate, string learningRateRef)
{
    public TableLayout Layout { get; } = layout;
    public double? LearningRate { get; } = learningRate;

    private static readonly HashSet<string> Given = ["t1", "t2", "i1", "i2", "b1", "b2"];

    private SheetGrid Sheet => Layout.Sheet;
    private int SheetRow(int i) => Layout.DataRows[i];

    /// <summary>The number in column <paramref name="name"/> of data row <paramref name="i"/>, or null if it is not a number.</summary>
    public double? Found(string name, int i) => Sheet[SheetRow(i), Layout.Columns[name]].Number;

    /// <summary>The value the rest of the row builds on: the sheet's own where it has the column, else ours.</summary>
    public double? Value(string name, int i)
    {
        if (Layout.Has(name)) return Found(name, i);
        if (constants.TryGetValue(name, out var c)) return c.Value;
        if (name is "b1" or "b2") return 0; // no bias in this sheet
        return Expected(name, i);
    }

    /// <summary>What the cell should hold given the row's found inputs; null where nothing can be said (given values).</summary>
    public double? Expected(string name, int i)
    {
        double? V(string n) => Value(n, i);
        switch (name)
        {
            case "t1" or "t2" or "i1" or "i2" or "b1" or "b2":
                return i == 0 ? null : Value(name, 0); // inputs and targets stay as in the first row
            case "h1": return V("w1") * V("i1") + V("w2") * V("i2") + V("b1");
            case "h2": return V("w3") * V("i1") + V("w4") * V("i2") + V("b1");
            case "a_h1" or "a_h2" or "a_o1" or "a_o2": return Sigmoid(V(name[2..]));
            case "o1": return V("w5") * V("a_h1") + V("w6") * V("a_h2") + V("b2");
            case "o2": return V("w7") * V("a_h1") + V("w8") * V("a_h2") + V("b2");
            case "E1": return 0.5 * (V("t1") - V("a_o1")) * (V("t1") - V("a_o1"));
            case "E2": return 0.5 * (V("t2") - V("a_o2")) * (V("t2") - V("a_o2"));
            case "E_tot": return V("E1") + V("E2");
        }
        if (name.StartsWith("dE/dw", StringComparison.Ordinal)) return Gradient(name[^1] - '0', i);
        if (name.Length == 2 && name[0] == 'w')
        {
            // w(next) = w − η·∂E/∂w of the row above; the first row holds the initial weights.
            if (i == 0 || LearningRate is not double eta) return null;
            return Value(name, i - 1) - eta * Value("dE/dw" + name[1], i - 1);
        }
        throw new ArgumentException($"unknown column '{name}'", nameof(name));
    }

    private static double? Sigmoid(double? x) => x is double v ? TwoLayerNetwork.Sigmoid(v) : null;

    private double? Gradient(int k, int i)
    {
        if (Value("a_h1", i) is not double ah1 || Value("a_h2", i) is not double ah2 || Value("a_o1", i) is not double ao1
            || Value("a_o2", i) is not double ao2 || Value("t1", i) is not double t1 || Value("t2", i) is not double t2
            || Value("i1", i) is not double i1 || Value("i2", i) is not double i2 || Value("w5", i) is not double w5
            || Value("w6", i) is not double w6 || Value("w7", i) is not double w7 || Value("w8", i) is not double w8)
            return null;
        // The course's closed forms read only the activations, targets, inputs and w5..w8; the rest stays 0.
        var config = new NetworkConfig(i1, i2, t1, t2, default, 1);
        var forward = new ForwardPass(0, ah1, 0, ah2, 0, ao1, 0, ao2, 0, 0, 0);
        return TwoLayerNetwork.Gradients(config, new Weights(0, 0, 0, 0, w5, w6, w7, w8), forward)[k];
    }

    /// <summary>The formula the cell should hold, in A1 notation for this sheet's layout, with a leading "=".</summary>
    public string? Formula(string name, int i) => Body(name, i) is string b ? "=" + b : null;

    private string? Body(string name, int i)
    {
        string R(string n) => Ref(n, i);
        string Bias(string b) => Layout.Has(b) || constants.ContainsKey(b) ? "+" + R(b) : "";
        string Delta(int o) => $"({R($"a_o{o}")}-{R($"t{o}")})*{R($"a_o{o}")}*(1-{R($"a_o{o}")})";
        switch (name)
        {
            case "t1" or "t2" or "i1" or "i2" or "b1" or "b2":
                return i == 0 || !Layout.Has(name) ? null : A1.Column(Layout.Columns[name]) + "$" + SheetRow(0).ToString(CultureInfo.InvariantCulture);
            case "h1": return $"{R("w1")}*{R("i1")}+{R("w2")}*{R("i2")}{Bias("b1")}";
            case "h2": return $"{R("w3")}*{R("i1")}+{R("w4")}*{R("i2")}{Bias("b1")}";
            case "a_h1" or "a_h2" or "a_o1" or "a_o2": return $"1/(1+EXP(-{R(name[2..])}))";
            case "o1": return $"{R("w5")}*{R("a_h1")}+{R("w6")}*{R("a_h2")}{Bias("b2")}";
            case "o2": return $"{R("w7")}*{R("a_h1")}+{R("w8")}*{R("a_h2")}{Bias("b2")}";
            case "E1": return $"0.5*({R("t1")}-{R("a_o1")})^2";
            case "E2": return $"0.5*({R("t2")}-{R("a_o2")})^2";
            case "E_tot": return $"{R("E1")}+{R("E2")}";
            case "dE/dw5": return $"{Delta(1)}*{R("a_h1")}";
            case "dE/dw6": return $"{Delta(1)}*{R("a_h2")}";
            case "dE/dw7": return $"{Delta(2)}*{R("a_h1")}";
            case "dE/dw8": return $"{Delta(2)}*{R("a_h2")}";
            case "dE/dw1": return $"({Delta(1)}*{R("w5")}+{Delta(2)}*{R("w7")})*{R("a_h1")}*(1-{R("a_h1")})*{R("i1")}";
            case "dE/dw2": return $"({Delta(1)}*{R("w5")}+{Delta(2)}*{R("w7")})*{R("a_h1")}*(1-{R("a_h1")})*{R("i2")}";
            case "dE/dw3": return $"({Delta(1)}*{R("w6")}+{Delta(2)}*{R("w8")})*{R("a_h2")}*(1-{R("a_h2")})*{R("i1")}";
            case "dE/dw4": return $"({Delta(1)}*{R("w6")}+{Delta(2)}*{R("w8")})*{R("a_h2")}*(1-{R("a_h2")})*{R("i2")}";
        }
        if (name.Length == 2 && name[0] == 'w')
            return i == 0 ? null : $"{Ref(name, i - 1)}-{learningRateRef}*{Ref("dE/dw" + name[1], i - 1)}";
        throw new ArgumentException($"unknown column '{name}'", nameof(name));
    }

    /// <summary>How a formula refers to a value: its cell (J11), a labelled cell ($B$2), or the inlined formula.</summary>
    private string Ref(string name, int i)
    {
        if (Layout.Has(name)) return A1.Address(SheetRow(i), Layout.Columns[name]);
        if (constants.TryGetValue(name, out var c)) return c.Reference(Sheet);
        if (Given.Contains(name)) return "0";
        return "(" + Body(name, i) + ")";
    }
}
