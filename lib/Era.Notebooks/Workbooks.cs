using System.Globalization;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Microsoft.Data.Analysis;

namespace Era.Notebooks;

/// <summary>A look inside an .xlsx from a notebook: the formulas a row holds, and a student's slip typed into a copy.</summary>
public static class Workbooks
{
    /// <summary>Every formula cell of one row of a sheet: address, formula and the value stored with it.</summary>
    public static DataFrame Formulas(string path, string sheet, int row)
    {
        using var doc = SpreadsheetDocument.Open(path, isEditable: false);
        var cells = Row(doc, sheet, row).Elements<Cell>().Where(c => c.CellFormula is not null).ToList();
        return new DataFrame(
            new StringDataFrameColumn("cell", cells.Select(c => c.CellReference?.Value ?? "")),
            new StringDataFrameColumn("formula", cells.Select(c => "=" + c.CellFormula!.Text)),
            new DoubleDataFrameColumn("stored value", cells.Select(c => double.Parse(c.CellValue?.Text ?? "NaN", CultureInfo.InvariantCulture))));
    }

    /// <summary>The formula in one cell ("=1/(1+EXP(-I5))"), or null when it holds a plain value.</summary>
    public static string? Formula(string path, string sheet, string cell)
    {
        using var doc = SpreadsheetDocument.Open(path, isEditable: false);
        return FindCell(doc, sheet, cell).CellFormula is { } f ? "=" + f.Text : null;
    }

    /// <summary>
    /// Types <paramref name="formula"/> into <paramref name="cell"/> of a copy of the workbook, storing
    /// <paramref name="value"/> as the value a spreadsheet program would have computed for it — what a student's file
    /// holds after a slip. The original is not touched.
    /// </summary>
    public static void WriteCopyWith(string source, string copy, string sheet, string cell, string formula, double value)
    {
        File.Copy(source, copy, overwrite: true);
        using var doc = SpreadsheetDocument.Open(copy, isEditable: true);
        var c = FindCell(doc, sheet, cell);
        c.CellFormula = new CellFormula(formula.TrimStart('='));
        c.CellValue = new CellValue(value.ToString("R", CultureInfo.InvariantCulture));
        c.DataType = null;
        // The calculation chain lists formula cells; LibreOffice and Excel rebuild it when it is missing.
        if (doc.WorkbookPart!.CalculationChainPart is { } chain) doc.WorkbookPart.DeletePart(chain);
    }

    private static Row Row(SpreadsheetDocument doc, string sheet, int row) =>
        Data(doc, sheet).Elements<Row>().FirstOrDefault(r => r.RowIndex?.Value == (uint)row)
            ?? throw new ArgumentException($"sheet '{sheet}' has no row {row}");

    private static Cell FindCell(SpreadsheetDocument doc, string sheet, string cell) =>
        Data(doc, sheet).Descendants<Cell>().FirstOrDefault(c => string.Equals(c.CellReference?.Value, cell, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"sheet '{sheet}' has no cell {cell}");

    private static SheetData Data(SpreadsheetDocument doc, string sheet)
    {
        var wb = doc.WorkbookPart ?? throw new ArgumentException("not a workbook");
        var s = wb.Workbook.Sheets?.Elements<Sheet>().FirstOrDefault(x => x.Name == sheet)
            ?? throw new ArgumentException($"no sheet named '{sheet}'");
        return ((WorksheetPart)wb.GetPartById(s.Id!)).Worksheet.GetFirstChild<SheetData>()!;
    }
}
