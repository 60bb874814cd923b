using System.Globalization;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Era.Excel.Writing;

/// <summary>The workbook's shared strings: each distinct text is stored once and cells refer to it by index.</summary>
internal sealed class SharedStrings
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<string> _texts = [];

    public int this[string text]
    {
        get
        {
            if (!_index.TryGetValue(text, out int i))
            {
                i = _texts.Count;
                _index.Add(text, i);
                _texts.Add(text);
            }
            return i;
        }
    }

    public void WriteTo(WorkbookPart workbook)
    {
        var part = workbook.AddNewPart<SharedStringTablePart>();
        part.SharedStringTable = new SharedStringTable(_texts.Select(t => new SharedStringItem(new Text(t) { Space = SpaceProcessingModeValues.Preserve })))
        {
            Count = (uint)_texts.Count,
            UniqueCount = (uint)_texts.Count,
        };
    }
}

/// <summary>
/// Streams one worksheet row by row (OpenXmlWriter, no DOM: tens of thousands of cells stay fast).
/// Call <see cref="Row"/> in increasing row order and add that row's cells left to right.
/// </summary>
internal sealed class SheetWriter : IDisposable
{
    private readonly OpenXmlWriter _w;
    private readonly SharedStrings _strings;
    private bool _inRow;

    public SheetWriter(WorksheetPart part, SharedStrings strings, int frozenRows, IEnumerable<(int Column, double Width)> widths)
    {
        _strings = strings;
        _w = OpenXmlWriter.Create(part);
        _w.WriteStartElement(new Worksheet());

        var view = new SheetView { WorkbookViewId = 0 };
        if (frozenRows > 0)
        {
            string topLeft = CellRef.Of(0, frozenRows + 1);
            view.Append(
                new Pane { VerticalSplit = frozenRows, TopLeftCell = topLeft, ActivePane = PaneValues.BottomLeft, State = PaneStateValues.Frozen },
                new Selection { Pane = PaneValues.BottomLeft, ActiveCell = topLeft, SequenceOfReferences = new ListValue<StringValue> { InnerText = topLeft } });
        }
        _w.WriteElement(new SheetViews(view));

        var cols = widths.Select(c => new Column { Min = (uint)c.Column + 1, Max = (uint)c.Column + 1, Width = c.Width, CustomWidth = true }).ToList();
        if (cols.Count > 0) _w.WriteElement(new Columns(cols));

        _w.WriteStartElement(new SheetData());
    }

    public void Row(int row)
    {
        if (_inRow) _w.WriteEndElement();
        _w.WriteStartElement(new Row { RowIndex = (uint)row });
        _inRow = true;
    }

    public void Text(int column, int row, string text, uint style = Styles.Default) =>
        Cell(column, row, style, "s", formula: null, _strings[text].ToString(CultureInfo.InvariantCulture));

    public void Number(int column, int row, double value, uint style = Styles.Default) =>
        Cell(column, row, style, double.IsFinite(value) ? null : "e", formula: null, Value(value));

    /// <summary>A live formula (written without '=') together with the value our engine computed for it.</summary>
    public void Formula(int column, int row, string formula, double cached, uint style = Styles.Default) =>
        Cell(column, row, style, double.IsFinite(cached) ? null : "e", formula, Value(cached));

    /// <summary>A formula whose result is text, with that text cached.</summary>
    public void TextFormula(int column, int row, string formula, string cached, uint style = Styles.Default) =>
        Cell(column, row, style, "str", formula, cached);

    // A non-finite value is shown as a spreadsheet shows EXP overflowing or a value that is not a number.
    private static string Value(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "#NUM!";

    // The element objects only name the tags: one instance each, reused for every cell (no DOM per cell).
    private readonly Cell _cell = new();
    private readonly CellFormula _formula = new();
    private readonly CellValue _value = new();
    private readonly List<OpenXmlAttribute> _attributes = new(3);

    /// <summary>&lt;c r= s= t=&gt;&lt;f&gt;formula&lt;/f&gt;&lt;v&gt;value&lt;/v&gt;&lt;/c&gt;</summary>
    private void Cell(int column, int row, uint style, string? type, string? formula, string value)
    {
        _attributes.Clear();
        _attributes.Add(new OpenXmlAttribute("r", "", CellRef.Of(column, row)));
        if (style != Styles.Default) _attributes.Add(new OpenXmlAttribute("s", "", style.ToString(CultureInfo.InvariantCulture)));
        if (type is not null) _attributes.Add(new OpenXmlAttribute("t", "", type));
        _w.WriteStartElement(_cell, _attributes);
        if (formula is not null)
        {
            _w.WriteStartElement(_formula);
            _w.WriteString(formula);
            _w.WriteEndElement();
        }
        _w.WriteStartElement(_value);
        _w.WriteString(value);
        _w.WriteEndElement();
        _w.WriteEndElement();
    }

    /// <summary>
    /// Ends the sheet data; <paramref name="drawingId"/> attaches the sheet's drawing (its charts), and
    /// <paramref name="chartColumn"/> (0-based, the chart's first column) prints that sheet so the chart is whole:
    /// A4 landscape (the chart's width fits, which portrait does not), a page break just left of the chart, and the
    /// pages taken across, then down, so the chart comes right after the first pages of the table.
    /// </summary>
    public void Finish(string? drawingId, int? chartColumn = null)
    {
        if (_inRow) _w.WriteEndElement();
        _inRow = false;
        _w.WriteEndElement(); // sheetData
        _w.WriteElement(new PageMargins { Left = 0.7, Right = 0.7, Top = 0.75, Bottom = 0.75, Header = 0.3, Footer = 0.3 });
        if (chartColumn is int column)
        {
            _w.WriteElement(new PageSetup { PaperSize = 9, Orientation = OrientationValues.Landscape, PageOrder = PageOrderValues.OverThenDown });
            _w.WriteElement(new ColumnBreaks(new Break { Id = (uint)column, Max = 1_048_575, ManualPageBreak = true }) { Count = 1, ManualBreakCount = 1 });
        }
        if (drawingId is not null) _w.WriteElement(new Drawing { Id = drawingId });
        _w.WriteEndElement(); // worksheet
        _w.Close();
    }

    public void Dispose() => _w.Dispose();
}
