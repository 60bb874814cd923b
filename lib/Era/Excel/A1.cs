using System.Globalization;
using System.Text;

namespace Era.Excel;

/// <summary>A1-style cell addresses, shared by the writer and the checker: column 1 is A, 27 is AA; row and column are 1-based.</summary>
public static class A1
{
    public const int MaxColumns = 16384; // XFD
    public const int MaxRows = 1048576;

    public static string Column(int col)
    {
        var sb = new StringBuilder();
        for (int c = col; c > 0; c = (c - 1) / 26) sb.Insert(0, (char)('A' + (c - 1) % 26));
        return sb.ToString();
    }

    public static string Address(int row, int col) => Column(col) + row.ToString(CultureInfo.InvariantCulture);

    /// <summary>Absolute reference, optionally on another sheet: 'Front page'!$B$3.</summary>
    public static string Absolute(int row, int col, string? sheet = null) =>
        (sheet is null ? "" : SheetPrefix(sheet)) + "$" + Column(col) + "$" + row.ToString(CultureInfo.InvariantCulture);

    public static string SheetPrefix(string sheet) => "'" + sheet.Replace("'", "''", StringComparison.Ordinal) + "'!";

    /// <summary>Parses "AB11" into (11, 28); false for anything else, including out-of-range addresses.</summary>
    public static bool TryParse(string? text, out int row, out int col)
    {
        row = 0; col = 0;
        if (string.IsNullOrEmpty(text)) return false;
        int i = 0;
        while (i < text.Length && char.IsAsciiLetter(text[i]))
        {
            col = col * 26 + (char.ToUpperInvariant(text[i]) - 'A' + 1);
            if (col > MaxColumns) return false;
            i++;
        }
        if (i == 0 || i == text.Length) return false;
        for (; i < text.Length; i++)
        {
            if (!char.IsAsciiDigit(text[i])) return false;
            row = row * 10 + (text[i] - '0');
            if (row > MaxRows) return false;
        }
        return row >= 1;
    }
}
