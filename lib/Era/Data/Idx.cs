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

    /// <summary>Reads <paramref name="path"/>; gzip is recognized by its magic bytes (1f 8b), not by the name.</summary>
    public static IdxData Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"{path}: cannot read: {e.Message}");
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses IDX bytes (gzip or raw); <paramref name="name"/> names them in error messages.</summary>
    public static IdxData Parse(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) bytes = Gunzip(bytes, name);

        if (bytes.Length < 4) throw new DataFormatException($"{name}: not an IDX file: only {bytes.Length} bytes");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new DataFormatException($"{name}: not an IDX file: magic {bytes[0]:x2} {bytes[1]:x2} {bytes[2]:x2} {bytes[3]:x2} should start with 00 00");
        if (bytes[2] != UnsignedByte)
            throw new DataFormatException($"{name}: IDX element type 0x{bytes[2]:x2} is not supported (expected 0x08, unsigned byte)");
        int ndims = bytes[3];
        if (ndims is < 1 or > 4) throw new DataFormatException($"{name}: IDX file with {ndims} dimensions (expected 1 to 4)");
        int headerLength = 4 + 4 * ndims;
        if (bytes.Length < headerLength) throw new DataFormatException($"{name}: truncated IDX header ({bytes.Length} bytes, {headerLength} needed)");

        var dims = new int[ndims];
        long size = 1;
        for (int i = 0; i < ndims; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (d > int.MaxValue) throw new DataFormatException($"{name}: dimension {i} is {d}, too large");
            dims[i] = (int)d;
            size *= d;
            if (size > Array.MaxLength) throw new DataFormatException($"{name}: dimensions {string.Join(" x ", dims[..(i + 1)])} are too large");
        }
        long actual = bytes.Length - headerLength;
        if (actual < size)
            throw new DataFormatException($"{name}: truncated: dimensions {string.Join(" x ", dims)} need {size} bytes of data, the file has {actual}");
        if (actual > size)
            throw new DataFormatException($"{name}: {actual - size} unexpected bytes after the {string.Join(" x ", dims)} data");
        return new IdxData(dims, bytes[headerLength..]);
    }

    private static byte[] Gunzip(byte[] bytes, string name)
    {
        try
        {
            using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gz.CopyTo(output);
            // A cut-off gzip stream may decompress without complaint; its last 4 bytes hold the original
            // length mod 2^32 (ISIZE), which a truncated file will not match.
            uint isize = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4));
            if (bytes.Length < 18 || isize != (uint)output.Length)
                throw new InvalidDataException($"decompressed {output.Length} bytes, the gzip trailer says {isize}");
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{name}: corrupt or truncated gzip data ({e.Message})");
        }
    }
}
