using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Era.Tests.Excel;

/// <summary>One cell as read back from a workbook: its formula (null for a constant) and its cached number or text.</summary>
public sealed record WrittenCell(string? Formula, double? Number, string? Text);

/// <summary>Reads every cell of every sheet of a workbook, with DocumentFormat.OpenXml: sheet → address → cell.</summary>
public static class WriterCells
{
    public static Dictionary<string, Dictionary<string, WrittenCell>> Read(string path)
    {
        using var doc = SpreadsheetDocument.Open(path, false);
        var book = doc.WorkbookPart!;
        var shared = book.SharedStringTablePart?.SharedStringTable.Elements<SharedStringItem>().Select(i => i.InnerText).ToList() ?? [];
        var result = new Dictionary<string, Dictionary<string, WrittenCell>>();
        foreach (var sheet in book.Workbook.Sheets!.Elements<Sheet>())
        {
            var part = (WorksheetPart)book.GetPartById(sheet.Id!);
            var cells = new Dictionary<string, WrittenCell>();
            foreach (var c in part.Worksheet.Descendants<Cell>())
            {
                string? raw = c.CellValue?.Text;
                string? formula = c.CellFormula?.Text is { Length: > 0 } f ? f : null;
                var type = c.DataType?.Value;
                WrittenCell data = type switch
                {
                    CellValues.SharedString => new(formula, null, shared[int.Parse(raw!, System.Globalization.CultureInfo.InvariantCulture)]),
                    CellValues.String or CellValues.InlineString => new(formula, null, raw ?? c.InlineString?.InnerText),
                    CellValues.Error => new(formula, null, raw),
                    _ => new(formula, raw is null ? null : double.Parse(raw, System.Globalization.CultureInfo.InvariantCulture), null),
                };
                cells[c.CellReference!.Value!] = data;
            }
            result[sheet.Name!.Value!] = cells;
        }
        return result;
    }

    /// <summary>|a − b| ≤ 1e-12·max(|a|, |b|): equal to the ~15 digits spreadsheets store.</summary>
    public static bool Close(double a, double b, double relative = 1e-12) =>
        a == b || Math.Abs(a - b) <= relative * Math.Max(Math.Abs(a), Math.Abs(b));
}
