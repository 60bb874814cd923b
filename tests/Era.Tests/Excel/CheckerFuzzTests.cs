using System.IO.Compression;
using System.Text;
using Era.Backprop;
using Era.Excel.Checking;

namespace Era.Tests.Excel.Checking;

/// <summary>
/// Untrusted input: whatever the bytes, the checker either returns a verdict or throws
/// <see cref="SheetCheckException"/> (exit 2 with its message). Any other exception fails these tests.
/// </summary>
public class CheckerFuzzTests
{
    private static readonly byte[] Valid = new StudentWorkbook
    {
        Rows = StudentTables.Correct(NetworkConfig.Classic, 12),
        LearningRate = 0.5,
        Eta = new EtaLabel("η", Row: 1, Col: 33),
        Formulas = true,
    }.Build();

    /// <summary>Runs the checker; true for a verdict, false for a refusal; rethrows anything else.</summary>
    private static bool Verdict(byte[] bytes, WorkbookLimits? limits = null)
    {
        try { SheetChecker.Check(bytes, null, limits); return true; }
        catch (SheetCheckException e) { Assert.False(string.IsNullOrWhiteSpace(e.Message)); return false; }
    }

    private static string Refusal(byte[] bytes, WorkbookLimits? limits = null) =>
        Assert.Throws<SheetCheckException>(() => SheetChecker.Check(bytes, null, limits)).Message;

    /// <summary>The valid workbook with one entry replaced, added (content not null) or removed (content null).</summary>
    private static byte[] WithEntry(byte[] xlsx, string name, byte[]? content, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var ms = new MemoryStream();
        ms.Write(xlsx);
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Update, leaveOpen: true))
        {
            zip.GetEntry(name)?.Delete();
            if (content is not null)
            {
                using var s = zip.CreateEntry(name, level).Open();
                s.Write(content);
            }
        }
        return ms.ToArray();
    }

    private static byte[] Entry(byte[] xlsx, string name)
    {
        using var zip = new ZipArchive(new MemoryStream(xlsx), ZipArchiveMode.Read);
        using var s = zip.GetEntry(name)!.Open();
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    private const string Sheet1 = "xl/worksheets/sheet1.xml";

    [Fact]
    public void TheUntouchedWorkbookIsReadable() => Assert.True(SheetChecker.Check(Valid).Ok);

    [Fact]
    public void RandomBytesAreRefused()
    {
        var rng = new Random(1);
        for (int k = 0; k < 300; k++)
        {
            var bytes = new byte[rng.Next(0, 3000)];
            rng.NextBytes(bytes);
            if (k % 3 == 0 && bytes.Length >= 4) "PK\u0003\u0004"u8.CopyTo(bytes); // looks like a zip at first sight
            if (k % 3 == 1 && bytes.Length >= 8) new byte[] { 0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1 }.CopyTo(bytes, 0);
            Refusal(bytes);
        }
    }

    [Fact]
    public void TruncatedWorkbooksAreRefused()
    {
        for (int len = 0; len < Valid.Length; len += 1 + len / 8)
            Refusal(Valid[..len]);
    }

    [Fact]
    public void FlippedBytesGiveAVerdictOrARefusalButNeverACrash()
    {
        var rng = new Random(2);
        int refused = 0;
        for (int k = 0; k < 400; k++)
        {
            var bytes = (byte[])Valid.Clone();
            for (int j = rng.Next(1, 5); j > 0; j--) bytes[rng.Next(bytes.Length)] ^= (byte)rng.Next(1, 256);
            if (!Verdict(bytes)) refused++;
        }
        Assert.True(refused > 0);
    }

    public static TheoryData<string, string> MalformedSheets => new()
    {
        { "truncated", "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"A1\"" },
        { "garbage", "\u0001\u0002 this is not xml <<<>>>" },
        { "empty", "" },
        { "wrong root", "<html><body>hello</body></html>" },
        { "bad refs", "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"0\"><c r=\"ZZZZZZ1\"><v>1</v></c><c r=\"A99999999999\"><v>2</v></c></row><row r=\"99999999999\"><c t=\"s\"><v>-1</v></c><c t=\"s\"><v>99999999999</v></c><c t=\"n\"><v>1e999</v></c><c t=\"n\"><v>NaN</v></c></row></sheetData></worksheet>" },
    };

    [Theory]
    [MemberData(nameof(MalformedSheets))]
    public void MalformedSheetXmlIsHandled(string what, string xml)
    {
        Assert.NotNull(what);
        Verdict(WithEntry(Valid, Sheet1, Encoding.UTF8.GetBytes(xml)));
    }

    [Theory]
    [InlineData("xl/workbook.xml")]
    [InlineData("xl/_rels/workbook.xml.rels")]
    [InlineData("[Content_Types].xml")]
    [InlineData("_rels/.rels")]
    [InlineData("xl/sharedStrings.xml")]
    public void MissingOrGarbledPartsAreRefused(string part)
    {
        Refusal(WithEntry(Valid, part, null));
        Refusal(WithEntry(Valid, part, "<<not xml"u8.ToArray()));
        var half = Entry(Valid, part);
        Refusal(WithEntry(Valid, part, half[..(half.Length / 2)]));
    }

    [Fact]
    public void ARichTextOfManyRunsIsReadInLinearTimeAndCappedAtExcelsCellLimit()
    {
        // One shared string of 100,000 rich-text runs "ab": joined by repeated string concatenation this took seconds.
        var book = new StudentWorkbook
        {
            Rows = StudentTables.Correct(NetworkConfig.Classic, 12),
            LearningRate = 0.5,
            Eta = new EtaLabel("η", Row: 1, Col: 33),
            Extra = new Dictionary<(int, int), XCell> { [(1, 40)] = new XText("BIG") },
        }.Build();
        string sst = Encoding.UTF8.GetString(Entry(book, "xl/sharedStrings.xml"));
        var m = System.Text.RegularExpressions.Regex.Match(sst, "<(\\w+:)?t>BIG</(\\w+:)?t>");
        Assert.True(m.Success, sst);
        string p = m.Groups[1].Value;
        var runs = new StringBuilder();
        for (int k = 0; k < 100_000; k++) runs.Append($"<{p}r><{p}t>ab</{p}t></{p}r>");
        var bytes = WithEntry(book, "xl/sharedStrings.xml",
            Encoding.UTF8.GetBytes(sst.Remove(m.Index, m.Length).Insert(m.Index, runs.ToString())), CompressionLevel.NoCompression);

        // Linear, not quadratic, measured in bytes allocated rather than seconds (no wall clock in tests): joining the
        // runs by repeated concatenation allocates gigabytes here, a StringBuilder capped at the cell limit about a megabyte.
        long before = GC.GetAllocatedBytesForCurrentThread();
        var sheets = SafeWorkbook.Read(bytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        string text = sheets[0][1, 40].Text!;
        Assert.Equal(32_767, text.Length); // Excel's limit for one cell; the rest is not kept
        Assert.StartsWith("abab", text, StringComparison.Ordinal);
        Assert.True(allocated < 64L << 20, $"reading allocated {allocated >> 20} MB");
        Assert.True(SheetChecker.Check(bytes).Ok);
    }

    [Fact]
    public void SheetsThatShareOneWorksheetPartAreRefused()
    {
        // 200 <sheet> entries, one worksheet part: read naively, the same XML would be parsed 200 times.
        string wb = Encoding.UTF8.GetString(Entry(Valid, "xl/workbook.xml"));
        var m = System.Text.RegularExpressions.Regex.Match(wb, "<(\\w+:)?sheet [^>]*/>");
        Assert.True(m.Success, wb);
        var copies = new StringBuilder(m.Value);
        for (int k = 2; k <= 200; k++)
            copies.Append(m.Value.Replace("name=\"Sheet1\"", $"name=\"Copy{k}\"", StringComparison.Ordinal)
                .Replace("sheetId=\"1\"", $"sheetId=\"{k}\"", StringComparison.Ordinal));
        Assert.Contains("Copy200", copies.ToString(), StringComparison.Ordinal);
        var bytes = WithEntry(Valid, "xl/workbook.xml", Encoding.UTF8.GetBytes(wb.Remove(m.Index, m.Length).Insert(m.Index, copies.ToString())));
        string message = Refusal(bytes);
        Assert.Contains("the sheets 'Sheet1' and 'Copy2' are the same worksheet", message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADtdIsRefused()
    {
        const string Lol = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
            + "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>";
        Assert.Contains("DTD", Refusal(WithEntry(Valid, Sheet1, Encoding.UTF8.GetBytes(Lol))), StringComparison.Ordinal);
    }

    [Fact]
    public void XmlIsScannedWhateverThePartIsCalled()
    {
        const string Dtd = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>";
        Assert.Contains("DTD", Refusal(WithEntry(Valid, "xl/worksheets/sheet9.bin", Encoding.UTF8.GetBytes(Dtd))), StringComparison.Ordinal);
        // Directory entries and binary parts are no XML and are left alone.
        Assert.True(Verdict(WithEntry(WithEntry(Valid, "xl/", []), "xl/media/image1.png", [0x89, (byte)'P', (byte)'N', (byte)'G'])));
    }

    [Fact]
    public void AbsurdNestingIsRefused()
    {
        var sb = new StringBuilder("<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>");
        for (int k = 0; k < 100_000; k++) sb.Append("<x>");
        for (int k = 0; k < 100_000; k++) sb.Append("</x>");
        sb.Append("</sheetData></worksheet>");
        Assert.Contains("nested", Refusal(WithEntry(Valid, Sheet1, Encoding.UTF8.GetBytes(sb.ToString()))), StringComparison.Ordinal);
    }

    [Fact]
    public void ZipBombsAreRefused()
    {
        // 40 MB of zeros packs into ~40 KB: refused by its packing ratio before anything is unpacked.
        Assert.Contains("zip bomb", Refusal(WithEntry(Valid, "xl/media/image1.bin", new byte[40 << 20], CompressionLevel.SmallestSize)), StringComparison.Ordinal);
        // More unpacked bytes in all than the limit allows.
        var small = new WorkbookLimits { MaxUnpackedBytes = 1 << 20 };
        var rng = new Random(3);
        var noise = new byte[2 << 20];
        rng.NextBytes(noise);
        Assert.Contains("unpacks to more than", Refusal(WithEntry(Valid, "xl/media/image1.bin", noise), small), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryLimitGivesItsOwnMessage()
    {
        Assert.Contains("a course sheet needs", Refusal(Valid, new WorkbookLimits { MaxFileBytes = 1000 }), StringComparison.Ordinal);
        Assert.Contains("entries", Refusal(Valid, new WorkbookLimits { MaxEntries = 3 }), StringComparison.Ordinal);
        Assert.Contains("cells", Refusal(Valid, new WorkbookLimits { MaxCells = 100 }), StringComparison.Ordinal);
        Assert.Contains("nested", Refusal(Valid, new WorkbookLimits { MaxXmlDepth = 2 }), StringComparison.Ordinal);
        Assert.Contains("more than 2000 characters", Refusal(Valid, new WorkbookLimits { MaxPartChars = 2000 }), StringComparison.Ordinal);
        Assert.True(Verdict(Valid, WorkbookLimits.Default));
    }

    [Fact]
    public void AnEntryThatLiesAboutItsSizeIsRefused()
    {
        // A sheet of 3 MB (padded with spaces) whose zip headers claim 2,000 bytes.
        var sheet = Encoding.UTF8.GetString(Entry(Valid, Sheet1));
        var padded = Encoding.UTF8.GetBytes(sheet.Replace("<sheetData>", "<sheetData>" + new string(' ', 3 << 20), StringComparison.Ordinal));
        var bytes = WithEntry(Valid, Sheet1, padded);
        PatchDeclaredSize(bytes, Sheet1, 2000);
        Refusal(bytes);
    }

    /// <summary>Overwrites the uncompressed size in the entry's local header and central directory record.</summary>
    private static void PatchDeclaredSize(byte[] zip, string name, uint size)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        int patched = 0;
        for (int p = 0; p + 46 < zip.Length; p++)
        {
            bool local = zip[p] == 'P' && zip[p + 1] == 'K' && zip[p + 2] == 3 && zip[p + 3] == 4;
            bool central = zip[p] == 'P' && zip[p + 1] == 'K' && zip[p + 2] == 1 && zip[p + 3] == 2;
            int nameAt = local ? p + 30 : central ? p + 46 : -1;
            if (nameAt < 0 || nameAt + nameBytes.Length > zip.Length || !zip.AsSpan(nameAt, nameBytes.Length).SequenceEqual(nameBytes)) continue;
            BitConverter.TryWriteBytes(zip.AsSpan(local ? p + 22 : p + 24, 4), size);
            patched++;
        }
        Assert.Equal(2, patched);
    }

    [Fact]
    public void EncryptedAndLegacyFilesAreRecognised()
    {
        var ole = new byte[4096];
        new byte[] { 0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1 }.CopyTo(ole, 0);
        string m = Refusal(ole);
        Assert.Contains("encrypted", m, StringComparison.Ordinal);
        Assert.Contains(".xls", m, StringComparison.Ordinal);
    }

    [Fact]
    public void ExternalLinksAreRefusedNotFollowed()
    {
        var linked = WithEntry(Valid, "xl/externalLinks/externalLink1.xml",
            "<externalLink xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"/>"u8.ToArray());
        Assert.Contains("external links", Refusal(linked), StringComparison.Ordinal);
    }

    [Fact]
    public void OtherDocumentsAreNamed()
    {
        Assert.Contains("Word document", Refusal(WithEntry(Valid, "word/document.xml", "<w/>"u8.ToArray())), StringComparison.Ordinal);
        Assert.Contains("empty", Refusal([]), StringComparison.Ordinal);
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        using (var s = zip.CreateEntry("hello.txt").Open()) s.Write("hi"u8);
        Assert.Contains("not an Office document", Refusal(ms.ToArray()), StringComparison.Ordinal);
    }
}
