namespace Era.Excel.Writing;

/// <summary>A1-style cell addresses: column 0 is "A", 26 is "AA"; rows are 1-based as in Excel.</summary>
public static class CellRef
{
    // The first columns' names, computed once: a workbook writes them tens of thousands of times.
    private static readonly string[] Names = Enumerable.Range(0, 256).Select(Name).ToArray();

    public static string Column(int index) => index >= 0 && index < Names.Length ? Names[index] : Name(index);

    private static string Name(int index) => index >= 0
        ? A1.Column(index + 1)
        : throw new ArgumentOutOfRangeException(nameof(index), index, "columns are numbered from 0");

    /// <summary>"C7" for (2, 7).</summary>
    public static string Of(int column, int row) => Column(column) + row.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>"$C$7" for (2, 7): a reference that stays put when a formula is copied.</summary>
    public static string Absolute(int column, int row) => $"${Column(column)}${row}";

    /// <summary>A sheet name as formulas write it: quoted when it holds anything but letters, digits and '_'.</summary>
    public static string Sheet(string name) =>
        name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !char.IsAsciiDigit(name[0])
            ? name
            : "'" + name.Replace("'", "''") + "'";
}
