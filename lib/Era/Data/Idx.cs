using System.Buffers.Binary;
using System.IO.Compression;

namespace Era.Data;

/// <summary>A file that is not what it should be (bad magic, wrong sizes, truncated, labels out of range); the message names the file.</summary>
public sealed class DataFormatException(string message) : Exception(message);

/// <summary>The contents of an IDX file: its dimensions and its unsigned bytes, row-major.</summary>
public sealed record IdxData(int[] Dims, byte[] Data)
{
    public int Count => Dims[0];
}

/// <summary>
/// Reader for the IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/), gzip-compressed or raw:
/// <code>
///   magic: 0x00 0x00 type ndims   (type 0x08 = unsigned byte, the only type MNIST uses)
///   ndims × int32 big-endian      the dimensions, e.g. 60000 28 28
///   the data                      product(dims) bytes, row-major
/// </code>
/// Everything is checked: magic, dimensions, and that the data is exactly as long as the dimensions say.
/// </summary>
public static class Idx
{
    private const byte UnsignedByte = 0x08;

    /// <summary>
    /// Reads <paramref name="path"/>; gzip is recognized by its magic bytes (1f 8b), not by the name. Streams the data
    /// into one array of the exact size, so reading the 47 MB of training images needs no further copies.
    /// </summary>
    public static IdxData Read(string path)
    {
        try
        {
            using var file = Era.IO.FileEntry.OpenRegular(path);
            return Parse(file, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"{path}: cannot read: {e.Message}");
        }
    }

    /// <summary>Parses IDX bytes (gzip or raw); <paramref name="name"/> names them in error messages.</summary>
    public static IdxData Parse(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Parse(new MemoryStream(bytes, writable: false), name);
    }

    /// <summary>Parses a seekable stream holding an IDX file, gzip-compressed or raw.</summary>
    public static IdxData Parse(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> head = stackalloc byte[4];
        int got = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            // A cut-off gzip stream may decompress without complaint; its last 4 bytes hold the original length
            // mod 2^32 (ISIZE), which a truncated file will not match.
            if (stream.Length < 18) throw new DataFormatException($"{name}: corrupt or truncated gzip data ({stream.Length} bytes)");
            stream.Position = stream.Length - 4;
            Span<byte> trailer = stackalloc byte[4];
            stream.ReadExactly(trailer);
            uint isize = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            stream.Position = 0;
            try
            {
                using var gz = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
                var counting = new CountingStream(gz);
                var result = ParseRaw(counting, name, expectedLength: null);
                if ((uint)counting.Count != isize)
                    throw new DataFormatException($"{name}: corrupt or truncated gzip data (decompressed {counting.Count} bytes, the gzip trailer says {isize})");
                return result;
            }
            catch (InvalidDataException e)
            {
                throw new DataFormatException($"{name}: corrupt or truncated gzip data ({e.Message})");
            }
        }
        return ParseRaw(stream, name, expectedLength: stream.CanSeek ? stream.Length - stream.Position : null);
    }

    /// <param name="expectedLength">The file's length when known (a raw file): header dimensions that promise more data
    /// than that are refused before any buffer is allocated.</param>
    private static IdxData ParseRaw(Stream s, string name, long? expectedLength)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = s.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4) throw new DataFormatException($"{name}: not an IDX file: only {got} bytes");
        if (magic[0] != 0 || magic[1] != 0)
            throw new DataFormatException($"{name}: not an IDX file: magic {magic[0]:x2} {magic[1]:x2} {magic[2]:x2} {magic[3]:x2} should start with 00 00");
        if (magic[2] != UnsignedByte)
            throw new DataFormatException($"{name}: IDX element type 0x{magic[2]:x2} is not supported (expected 0x08, unsigned byte)");
        int ndims = magic[3];
        if (ndims is < 1 or > 4) throw new DataFormatException($"{name}: IDX file with {ndims} dimensions (expected 1 to 4)");

        Span<byte> dimBytes = stackalloc byte[4 * ndims];
        got = s.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false);
        if (got < dimBytes.Length) throw new DataFormatException($"{name}: truncated IDX header ({4 + got} bytes, {4 + dimBytes.Length} needed)");
        var dims = new int[ndims];
        long size = 1;
        for (int i = 0; i < ndims; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes[(4 * i)..]);
            if (d > int.MaxValue) throw new DataFormatException($"{name}: dimension {i} is {d}, too large");
            dims[i] = (int)d;
            size *= d;
            if (size > Array.MaxLength) throw new DataFormatException($"{name}: dimensions {string.Join(" x ", dims[..(i + 1)])} are too large");
        }

        if (expectedLength is long length && 4 + 4L * ndims + size > length)
            throw new DataFormatException($"{name}: truncated: dimensions {string.Join(" x ", dims)} need {size} bytes of data, the file has {length - 4 - 4L * ndims}");
        var data = ReadUpTo(s, size, out int read);
        if (read < size)
            throw new DataFormatException($"{name}: truncated: dimensions {string.Join(" x ", dims)} need {size} bytes of data, the file has {read}");
        long extra = 0;
        Span<byte> rest = stackalloc byte[256];
        for (int n; (n = s.Read(rest)) > 0;) extra += n;
        if (extra > 0) throw new DataFormatException($"{name}: {extra} unexpected bytes after the {string.Join(" x ", dims)} data");
        return new IdxData(dims, data);
    }

    /// <summary>
    /// Reads up to <paramref name="size"/> bytes, growing the buffer as data arrives, so that a tiny file whose header
    /// claims gigabytes fails as truncated instead of allocating them first.
    /// </summary>
    private static byte[] ReadUpTo(Stream s, long size, out int filled)
    {
        var buffer = new byte[Math.Min(size, 1 << 20)];
        filled = 0;
        while (filled < size)
        {
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(size, 2L * buffer.Length));
            int n = s.Read(buffer, filled, buffer.Length - filled);
            if (n == 0) break;
            filled += n;
        }
        return buffer;
    }

    /// <summary>Counts the bytes read through it (to compare with the gzip trailer).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            Count += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
