using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Era.Excel.Writing;

/// <summary>The workbook's few cell styles; each constant is an index into the stylesheet's cellXfs.</summary>
internal static class Styles
{
    public const uint Default = 0;
    public const uint Header = 1;    // bold, bottom border, centred
    public const uint Input = 2;     // yellow: "change me"
    public const uint Fixed = 3;     // 0.000000000
    public const uint Scientific = 4; // 0.000000E+00: losses and gradients shrink by orders of magnitude
    public const uint Title = 5;
    public const uint Note = 6;      // italic
    public const uint Label = 7;     // bold
    public const uint Integer = 8;
    public const uint Formula = 9;   // monospace, for the equations as text

    public static Stylesheet Create() => new(
        new NumberingFormats(
            new NumberingFormat { NumberFormatId = 164, FormatCode = "0.000000000" },
            new NumberingFormat { NumberFormatId = 165, FormatCode = "0.000000E+00" })
        { Count = 2 },
        new Fonts(
            new Font(new FontSize { Val = 11 }, new FontName { Val = "Calibri" }),
            new Font(new Bold(), new FontSize { Val = 11 }, new FontName { Val = "Calibri" }),
            new Font(new Bold(), new FontSize { Val = 14 }, new FontName { Val = "Calibri" }),
            new Font(new Italic(), new FontSize { Val = 11 }, new FontName { Val = "Calibri" }),
            new Font(new FontSize { Val = 11 }, new FontName { Val = "Consolas" }))
        { Count = 5 },
        new Fills(
            new Fill(new PatternFill { PatternType = PatternValues.None }),
            new Fill(new PatternFill { PatternType = PatternValues.Gray125 }),
            new Fill(new PatternFill(new ForegroundColor { Rgb = "FFFFF2CC" }) { PatternType = PatternValues.Solid }))
        { Count = 3 },
        new Borders(
            new Border(new LeftBorder(), new RightBorder(), new TopBorder(), new BottomBorder(), new DiagonalBorder()),
            new Border(new LeftBorder(), new RightBorder(), new TopBorder(),
                new BottomBorder(new Color { Auto = true }) { Style = BorderStyleValues.Thin }, new DiagonalBorder()))
        { Count = 2 },
        new CellStyleFormats(new CellFormat { NumberFormatId = 0, FontId = 0, FillId = 0, BorderId = 0 }) { Count = 1 },
        new CellFormats(
            Xf(),
            Xf(font: 1, border: 1, alignment: new Alignment { Horizontal = HorizontalAlignmentValues.Center }),
            Xf(fill: 2),
            Xf(numFmt: 164),
            Xf(numFmt: 165),
            Xf(font: 2),
            Xf(font: 3),
            Xf(font: 1),
            Xf(numFmt: 1),
            Xf(font: 4))
        { Count = 10 },
        new CellStyles(new CellStyle { Name = "Normal", FormatId = 0, BuiltinId = 0 }) { Count = 1 });

    private static CellFormat Xf(uint numFmt = 0, uint font = 0, uint fill = 0, uint border = 0, Alignment? alignment = null)
    {
        var xf = new CellFormat { NumberFormatId = numFmt, FontId = font, FillId = fill, BorderId = border, FormatId = 0 };
        if (numFmt != 0) xf.ApplyNumberFormat = true;
        if (font != 0) xf.ApplyFont = true;
        if (fill != 0) xf.ApplyFill = true;
        if (border != 0) xf.ApplyBorder = true;
        if (alignment is not null) { xf.ApplyAlignment = true; xf.Append(alignment); }
        return xf;
    }

    /// <summary>The number format a table column reads best in.</summary>
    public static uint ForColumn(string name) =>
        name.StartsWith('E') || name.StartsWith("dE", StringComparison.Ordinal) ? Scientific : Fixed;
}
