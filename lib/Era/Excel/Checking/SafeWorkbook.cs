using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Xml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Era.Excel.Checking;

/// <summary>A workbook the checker will not or cannot read; the message says why and what to do (exit code 2).</summary>
public sealed class SheetCheckException(string message) : Exception(message);

/// <summary>How much of an untrusted file the checker is willing to read. The defaults fit any real course sheet.</summary>
public sealed record WorkbookLimits
{
    public long MaxFileBytes { get; init; } = 32L << 20;
    public int MaxEntries { get; init; } = 2000;
    /// <summary>Sum of the unpacked sizes of all entries: a few KB of zip can claim gigabytes (a "zip bomb").</summary>
    public long MaxUnpackedBytes { get; init; } = 128L << 20;
    /// <summary>Characters in one XML part; also handed to the OpenXML SDK (OpenSettings.MaxCharactersInPart).</summary>
    public long MaxPartChars { get; init; } = 32L << 20;
    /// <summary>Unpacked/packed size above which a large entry is treated as a zip bomb. Real XML packs 5–50×.</summary>
    public long MaxCompressionRatio { get; init; } = 1000;
    public int MaxXmlDepth { get; init; } = 64;
    public int MaxSheets { get; init; } = 255;
    public int MaxCells { get; init; } = 2_000_000;

    public static WorkbookLimits Default { get; } = new();
}

/// <summary>
/// Reads the cached cell values of an .xlsx file that may be hostile. The zip is inspected first with
/// System.IO.Compression (signature, entry count, unpacked sizes, external links) and every XML part is parsed once
/// with DTDs prohibited and depth and size limits; only then does the OpenXML SDK open it, read-only.
/// No formula is evaluated and no link is followed: the checker sees exactly what the spreadsheet program saved.
/// </summary>
public static class SafeWorkbook
{
    private static readonly byte[] OleSignature = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

    /// <summary>Excel's limit for the text of one cell; a longer text (only a crafted file has one) is cut there.</summary>
    public const int MaxCellChars = 32_767;

    public static IReadOnlyList<SheetGrid> Read(string path, WorkbookLimits? limits = null)
    {
        limits ??= WorkbookLimits.Default;
        byte[] bytes;
        try
        {
            // A link is judged by what it points at.
            FileSystemInfo target = new FileInfo(path);
            if (target.LinkTarget is not null) target = target.ResolveLinkTarget(returnFinalTarget: true) ?? target;
            if (Directory.Exists(target.FullName)) throw new SheetCheckException("a directory, not an .xlsx file");
            if (target is not FileInfo file || !file.Exists) throw new SheetCheckException("no such file");
            // .NET cannot ask for the file type, but pipes, devices and sockets report size 0, as does an empty file.
            // Opening a pipe would wait for a writer forever and a device may never end: neither is ever opened.
            if (file.Length == 0)
                throw new SheetCheckException("the file is empty, or not a regular file (a pipe or a device): there is no workbook to check");
            if (file.Length > limits.MaxFileBytes)
                throw new SheetCheckException($"the file is {Mb(file.Length)}, more than the {Mb(limits.MaxFileBytes)} a course sheet needs");
            bytes = ReadAtMost(file.FullName, limits.MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SheetCheckException($"cannot read the file: {e.Message}");
        }
        return Read(bytes, limits);
    }

    /// <summary>The file's bytes, reading no more than one byte past <paramref name="max"/>: it may grow while we read.</summary>
    private static byte[] ReadAtMost(string path, long max)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        using var ms = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = fs.Read(buffer, 0, (int)Math.Min(buffer.Length, max + 1 - ms.Length))) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > max) throw new SheetCheckException($"the file is more than the {Mb(max)} a course sheet needs");
        }
        return ms.ToArray();
    }

    public static IReadOnlyList<SheetGrid> Read(byte[] bytes, WorkbookLimits? limits = null)
    {
        limits ??= WorkbookLimits.Default;
        if (bytes.LongLength > limits.MaxFileBytes)
            throw new SheetCheckException($"the file is {Mb(bytes.LongLength)}, more than the {Mb(limits.MaxFileBytes)} a course sheet needs");
        CheckSignature(bytes);
        using var stream = new MemoryStream(bytes, writable: false);
        InspectZip(stream, limits);
        stream.Position = 0;
        try
        {
            return ReadWithSdk(stream, limits);
        }
        catch (SheetCheckException) { throw; }
        catch (Exception e)
        {
            // The parts passed our own checks, so whatever the SDK objects to is a damaged or non-Excel package.
            throw new SheetCheckException($"not a readable Excel workbook: {e.Message}");
        }
    }

    private static void CheckSignature(byte[] b)
    {
        if (b.Length == 0) throw new SheetCheckException("the file is empty");
        if (b.AsSpan().StartsWith(OleSignature))
            throw new SheetCheckException(
                "the file is an OLE compound file: either a password-protected (encrypted) workbook or an old .xls. "
                + "Remove the password (File → Info → Protect Workbook) or save it as \"Excel Workbook (.xlsx)\", then check again");
        if (b.Length < 4 || b[0] != 'P' || b[1] != 'K' || b[2] != 3 || b[3] != 4)
            throw new SheetCheckException(
                "not an .xlsx workbook (it is not a zip archive). If it is a .csv, .ods or .xls file, open it and save it as \"Excel Workbook (.xlsx)\"");
    }

    private static void InspectZip(Stream stream, WorkbookLimits limits)
    {
        ZipArchive zip;
        try { zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true); }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException)
        {
            throw new SheetCheckException($"the file is a damaged zip archive, not a readable workbook ({e.Message})");
        }
        using (zip)
        {
            IReadOnlyCollection<ZipArchiveEntry> entries;
            try { entries = zip.Entries; }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException)
            {
                throw new SheetCheckException($"the file is a damaged zip archive, not a readable workbook ({e.Message})");
            }
            if (entries.Count > limits.MaxEntries)
                throw new SheetCheckException($"the zip holds {entries.Count} entries, more than the {limits.MaxEntries} a workbook needs");
            long total = 0;
            bool contentTypes = false, workbook = false;
            foreach (var e in entries)
            {
                string name = e.FullName.Replace('\\', '/').TrimStart('/');
                total += e.Length;
                if (e.Length < 0 || total > limits.MaxUnpackedBytes)
                    throw new SheetCheckException($"the workbook unpacks to more than {Mb(limits.MaxUnpackedBytes)} (a zip bomb?); a course sheet is far smaller");
                if (e.Length > (1 << 20) && e.Length > limits.MaxCompressionRatio * Math.Max(1, e.CompressedLength))
                    throw new SheetCheckException($"the entry {name} packs {Mb(e.Length)} into {e.CompressedLength} bytes (a zip bomb?)");
                if (name.StartsWith("xl/externalLinks/", StringComparison.OrdinalIgnoreCase))
                    throw new SheetCheckException(
                        "the workbook links to other workbooks (external links), which the checker does not follow. "
                        + "Break the links (Excel: Data → Edit Links → Break Link; LibreOffice: Edit → Links → Break Link), save and check again");
                if (name.Equals("[Content_Types].xml", StringComparison.OrdinalIgnoreCase)) contentTypes = true;
                if (name.Equals("mimetype", StringComparison.Ordinal) || name.Equals("META-INF/manifest.xml", StringComparison.Ordinal))
                    throw new SheetCheckException("this is an OpenDocument file (.ods, LibreOffice's own format), not an Excel workbook: "
                        + "open it in LibreOffice Calc and save it with File → Save As… → \"Excel 2007-365 (.xlsx)\"");
                if (name.Equals("word/document.xml", StringComparison.OrdinalIgnoreCase))
                    throw new SheetCheckException("this is a Word document, not an Excel workbook");
                if (name.Equals("ppt/presentation.xml", StringComparison.OrdinalIgnoreCase))
                    throw new SheetCheckException("this is a PowerPoint presentation, not an Excel workbook");
                if (name.StartsWith("xl/", StringComparison.OrdinalIgnoreCase) && name.EndsWith("workbook.xml", StringComparison.OrdinalIgnoreCase))
                    workbook = true;
                if (name.Equals("EncryptionInfo", StringComparison.OrdinalIgnoreCase))
                    throw new SheetCheckException("the workbook is encrypted (password-protected); remove the password and save it again");
            }
            if (!contentTypes) throw new SheetCheckException("a zip archive, but not an Office document (no [Content_Types].xml)");
            if (!workbook) throw new SheetCheckException("a zip archive, but not an Excel workbook (no xl/workbook.xml part)");
            foreach (var e in entries)
            {
                string name = e.FullName;
                if (name.EndsWith(".xml", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".rels", StringComparison.OrdinalIgnoreCase)
                    || LooksLikeXml(e))
                    ScanXml(e, limits); // whatever the SDK might parse as XML, whatever its name
            }
        }
    }

    /// <summary>True if the entry starts like an XML document ('&lt;', after an optional byte-order mark).</summary>
    private static bool LooksLikeXml(ZipArchiveEntry entry)
    {
        try
        {
            using var s = entry.Open();
            Span<byte> head = stackalloc byte[4];
            int n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            var h = head[..n];
            if (h.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) h = h[3..];
            return (h.Length > 0 && h[0] == '<') || h.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || h.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            throw new SheetCheckException($"the part {entry.FullName} cannot be unpacked ({e.Message})");
        }
    }

    /// <summary>Parses one XML part through to the end: well-formed, no DTD, bounded depth and size.</summary>
    private static void ScanXml(ZipArchiveEntry entry, WorkbookLimits limits)
    {
        var settings = XmlSettings(limits);
        try
        {
            using var raw = entry.Open();
            using var bounded = new BoundedStream(raw, entry.Length);
            using var reader = XmlReader.Create(bounded, settings);
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.Element && reader.Depth > limits.MaxXmlDepth)
                    throw new SheetCheckException($"the part {entry.FullName} is nested more than {limits.MaxXmlDepth} levels deep; no real workbook is");
            }
        }
        catch (XmlException e) when (e.Message.Contains("DTD", StringComparison.Ordinal))
        {
            throw new SheetCheckException($"the part {entry.FullName} contains a DTD, which .xlsx files never do; refusing to read it");
        }
        catch (XmlException e) when (e.Message.Contains("MaxCharacters", StringComparison.Ordinal))
        {
            throw new SheetCheckException($"the part {entry.FullName} holds more than {limits.MaxPartChars} characters; a course sheet is far smaller");
        }
        catch (XmlException e)
        {
            throw new SheetCheckException($"the part {entry.FullName} is not well-formed XML ({e.Message})");
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException or ArgumentException)
        {
            throw new SheetCheckException($"the part {entry.FullName} cannot be unpacked ({e.Message})");
        }
    }

    /// <summary>The hardened XML settings every part is parsed with: no DTD, no resolver, bounded size.</summary>
    private static XmlReaderSettings XmlSettings(WorkbookLimits limits) => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = limits.MaxPartChars,
        MaxCharactersFromEntities = 1024,
        IgnoreComments = true,
        IgnoreWhitespace = true,
        IgnoreProcessingInstructions = true,
    };

    /// <summary>
    /// The SDK finds the workbook, its sheets and their parts; the large parts (sheet data, shared strings) are then
    /// streamed with the hardened XmlReader rather than built into a DOM: a tenth of the time and memory.
    /// Elements are matched by local name, so transitional and strict OOXML both read.
    /// </summary>
    private static IReadOnlyList<SheetGrid> ReadWithSdk(Stream stream, WorkbookLimits limits)
    {
        var settings = new OpenSettings { MaxCharactersInPart = limits.MaxPartChars, AutoSave = false };
        using var doc = SpreadsheetDocument.Open(stream, false, settings);
        var wbPart = doc.WorkbookPart ?? throw new SheetCheckException("not an Excel workbook (the package has no workbook part)");
        var sheets = wbPart.Workbook?.Sheets?.Elements<Sheet>().ToList() ?? [];
        if (sheets.Count == 0) throw new SheetCheckException("the workbook has no sheets");
        if (sheets.Count > limits.MaxSheets) throw new SheetCheckException($"the workbook has {sheets.Count} sheets, more than {limits.MaxSheets}");
        var xml = XmlSettings(limits);
        var strings = wbPart.SharedStringTablePart is { } sst ? SharedStrings(sst, xml) : [];
        var grids = new List<SheetGrid>();
        int cells = 0;
        // Each worksheet part is read once: a crafted workbook.xml may list one part hundreds of times.
        var read = new Dictionary<Uri, string>();
        foreach (var sheet in sheets)
        {
            string? id = sheet.Id?.Value;
            if (id is null || !wbPart.TryGetPartById(id, out var part) || part is not WorksheetPart ws) continue; // chart sheets, broken ids
            var grid = new SheetGrid(sheet.Name?.Value ?? id);
            if (!read.TryAdd(ws.Uri, grid.Name))
                throw new SheetCheckException(
                    $"the sheets '{CheckReport.Clip(read[ws.Uri])}' and '{CheckReport.Clip(grid.Name)}' are the same worksheet ({ws.Uri}); "
                    + "Excel and LibreOffice never save a workbook like that. Copy the table into a new workbook, save it and check again");
            using (var partStream = ws.GetStream(FileMode.Open, FileAccess.Read))
            using (var x = XmlReader.Create(partStream, xml))
                ReadSheetData(x, grid, strings, limits, ref cells);
            grids.Add(grid);
        }
        if (grids.Count == 0) throw new SheetCheckException("the workbook has no worksheets (only chart sheets?)");
        return grids;
    }

    private static void ReadSheetData(XmlReader x, SheetGrid grid, List<string> strings, WorkbookLimits limits, ref int cells)
    {
        int row = 0, col = 0;
        while (x.Read())
        {
            if (x.NodeType != XmlNodeType.Element) continue;
            if (x.LocalName == "row")
            {
                row = int.TryParse(x.GetAttribute("r"), NumberStyles.None, CultureInfo.InvariantCulture, out int r) && r >= 1 ? r : row + 1;
                col = 0;
            }
            else if (x.LocalName == "c")
            {
                if (A1.TryParse(x.GetAttribute("r"), out int cr, out int cc)) { row = cr; col = cc; }
                else col++;
                string? type = x.GetAttribute("t");
                if (x.IsEmptyElement) continue; // formatting only
                bool formula = false;
                string? value = null;
                StringBuilder? inline = null;
                int depth = x.Depth;
                while (x.Read() && !(x.NodeType == XmlNodeType.EndElement && x.Depth == depth))
                {
                    if (x.NodeType != XmlNodeType.Element) continue;
                    if (x.LocalName == "f") formula = true;
                    else if (x.LocalName == "v") value = Text(x);
                    else if (x.LocalName == "t") AppendText(x, inline ??= new StringBuilder());
                }
                if (row < 1 || row > A1.MaxRows || col < 1 || col > A1.MaxColumns) continue;
                if (++cells > limits.MaxCells) throw new SheetCheckException($"the workbook has more than {limits.MaxCells} cells");
                grid.Set(row, col, ToSheetCell(type, value, inline?.ToString(), formula, strings));
            }
        }
    }

    /// <summary>The text content of the current element; leaves the reader on its end element.</summary>
    private static string Text(XmlReader x)
    {
        var sb = new StringBuilder();
        AppendText(x, sb);
        return sb.ToString();
    }

    /// <summary>
    /// Appends the text content of the current element, up to <see cref="MaxCellChars"/> in all; leaves the reader on
    /// its end element. A StringBuilder, since a rich text may come in 100,000 runs: joining strings would be quadratic.
    /// </summary>
    private static void AppendText(XmlReader x, StringBuilder sb)
    {
        if (x.IsEmptyElement) return;
        int depth = x.Depth;
        while (x.Read() && !(x.NodeType == XmlNodeType.EndElement && x.Depth == depth))
        {
            if (x.NodeType is XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace or XmlNodeType.Whitespace
                && sb.Length < MaxCellChars)
            {
                string v = x.Value;
                sb.Append(v, 0, Math.Min(v.Length, MaxCellChars - sb.Length));
            }
        }
    }

    /// <summary>Shared strings in order; rich text keeps its words in runs, phonetic hints (rPh) are not text.</summary>
    private static List<string> SharedStrings(SharedStringTablePart part, XmlReaderSettings xml)
    {
        var list = new List<string>();
        using var stream = part.GetStream(FileMode.Open, FileAccess.Read);
        using var x = XmlReader.Create(stream, xml);
        StringBuilder? current = null;
        int phonetic = -1;
        while (x.Read())
        {
            if (x.NodeType == XmlNodeType.EndElement)
            {
                if (x.LocalName == "si") { list.Add(current?.ToString() ?? ""); current = null; }
                else if (x.LocalName == "rPh" && x.Depth == phonetic) phonetic = -1;
                continue;
            }
            if (x.NodeType != XmlNodeType.Element) continue;
            if (x.LocalName == "si") { current = new StringBuilder(); if (x.IsEmptyElement) { list.Add(""); current = null; } }
            else if (x.LocalName == "rPh" && !x.IsEmptyElement) phonetic = x.Depth;
            else if (x.LocalName == "t" && phonetic < 0 && current is not null) AppendText(x, current);
        }
        return list;
    }

    private static SheetCell ToSheetCell(string? type, string? v, string? inline, bool formula, List<string> strings)
    {
        if (type == "inlineStr") return new SheetCell(null, inline ?? "", formula, true);
        if (v is null) return new SheetCell(null, null, formula, HasCachedValue: false);
        if (type == "s")
        {
            string? s = int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k < strings.Count ? strings[k] : null;
            return new SheetCell(null, s, formula, true);
        }
        if (type is null or "n")
        {
            return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)
                ? new SheetCell(d, null, formula, true)
                : new SheetCell(null, v, formula, true);
        }
        // Booleans, errors (#DIV/0!), formula strings, dates as text: never a number the checker can use.
        return new SheetCell(null, type == "b" ? (v == "1" ? "TRUE" : "FALSE") : v, formula, true);
    }

    private static string Mb(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.#", CultureInfo.InvariantCulture) + " MB";

    /// <summary>Read-only view of a stream that fails once it yields more than the zip header declared.</summary>
    private sealed class BoundedStream(Stream inner, long limit) : Stream
    {
        private long _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            _read += n;
            if (_read > limit) throw new InvalidDataException("it unpacks to more bytes than its zip header declares (a zip bomb?)");
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
    }
}
