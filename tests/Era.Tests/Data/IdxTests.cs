using System.IO.Compression;
using Era.Data;

namespace Era.Tests.Data;

/// <summary>Builds small IDX files by hand (big-endian header, unsigned bytes) so the tests need no dataset.</summary>
internal static class IdxFiles
{
    public static byte[] Make(int[] dims, byte[] data, byte type = 0x08)
    {
        var bytes = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (int d in dims) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return [.. bytes];
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(raw);
        return output.ToArray();
    }

    /// <summary>count images 28×28 whose pixel (r, c) of image i is (i + r + c) mod 256, and labels i mod 10.</summary>
    public static void WriteMnist(string dir, string prefix, int count, bool gzip, int labelCount = -1, int labelOffset = 0)
    {
        Directory.CreateDirectory(dir);
        var pixels = new byte[count * 784];
        for (int i = 0; i < count; i++)
            for (int r = 0; r < 28; r++)
                for (int c = 0; c < 28; c++) pixels[i * 784 + r * 28 + c] = (byte)((i + r + c) % 256);
        if (labelCount < 0) labelCount = count;
        var labels = Enumerable.Range(0, labelCount).Select(i => (byte)(i % 10 + labelOffset)).ToArray();
        byte[] images = Make([count, 28, 28], pixels), labelFile = Make([labelCount], labels);
        string ext = gzip ? ".gz" : "";
        File.WriteAllBytes(Path.Combine(dir, $"{prefix}-images-idx3-ubyte{ext}"), gzip ? Gzip(images) : images);
        File.WriteAllBytes(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte{ext}"), gzip ? Gzip(labelFile) : labelFile);
    }
}

public class IdxTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsRawAndGzip(bool gzip)
    {
        byte[] raw = IdxFiles.Make([2, 3], [1, 2, 3, 4, 5, 255]);
        var idx = Idx.Parse(gzip ? IdxFiles.Gzip(raw) : raw, "t.idx");
        Assert.Equal([2, 3], idx.Dims);
        Assert.Equal([1, 2, 3, 4, 5, 255], idx.Data);
        Assert.Equal(2, idx.Count);
    }

    [Fact]
    public void HeaderIsBigEndian()
    {
        // dims 300 = 0x0000012C: a little-endian reader would see 0x2C010000.
        var idx = Idx.Parse([0, 0, 8, 1, 0, 0, 1, 0x2C, .. new byte[300]], "t");
        Assert.Equal([300], idx.Dims);
    }

    public static TheoryData<byte[], string> Malformed => new()
    {
        { [1, 0, 8, 1, 0, 0, 0, 1, 7], "magic" },
        { IdxFiles.Make([1], [7], type: 0x0D), "element type 0x0d" },
        { IdxFiles.Make([2, 2], [1, 2, 3]), "truncated: dimensions 2 x 2 need 4 bytes of data, the file has 3" },
        { IdxFiles.Make([2], [1, 2, 3]), "1 unexpected bytes" },
        { [0, 0, 8, 3, 0, 0, 0, 1], "truncated IDX header" },
        { [0, 0, 8], "only 3 bytes" },
        { [0, 0, 8, 0], "0 dimensions" },
        { IdxFiles.Gzip(IdxFiles.Make([4], [1, 2, 3, 4]))[..12], "gzip" },
        // A header that promises 2 GB in an 8-byte file: refused as truncated, without allocating the 2 GB first.
        { [0, 0, 8, 1, 0x7F, 0xFF, 0xFF, 0xC7], "truncated: dimensions 2147483591 need 2147483591 bytes of data" },
        { IdxFiles.Gzip([0, 0, 8, 1, 0x7F, 0xFF, 0xFF, 0xC7]), "truncated: dimensions 2147483591 need 2147483591 bytes of data, the file has 0" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedFilesGiveErrorsNamingTheFile(byte[] bytes, string expected)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => Idx.Parse(bytes, "bad-file.idx"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocated < 64 << 20, "a malformed header made the reader allocate its claimed size");
        Assert.StartsWith("bad-file.idx: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        var e = Assert.Throws<DataFormatException>(() => Idx.Read("/nonexistent/dir/x.idx"));
        Assert.Contains("/nonexistent/dir/x.idx: cannot read", e.Message);
    }
}
