using System.Buffers.Binary;
using System.IO.Compression;

namespace Era.Tests.Figures;

/// <summary>
/// Just enough of a PNG decoder to check an export: the IHDR size and the pixels (8-bit RGB/RGBA, not interlaced),
/// unfiltered as the PNG specification says, so tests can tell a drawn figure from a blank image.
/// </summary>
internal sealed record Png(int Width, int Height, int Channels, byte[] Pixels)
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    public static Png Decode(byte[] file)
    {
        if (file.Length < 8 || !file.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException("not a PNG (bad signature)");
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (int at = 8; at + 8 <= file.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
            var data = file.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                byte depth = data[8], color = data[9], interlace = data[12];
                if (depth != 8 || interlace != 0 || (color != 2 && color != 6))
                    throw new InvalidDataException($"unsupported PNG: depth {depth}, color type {color}, interlace {interlace}");
                channels = color == 6 ? 4 : 3;
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            at += 12 + length;
        }
        if (width == 0) throw new InvalidDataException("PNG without IHDR");

        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        byte[] filtered = raw.ToArray();
        int stride = width * channels;
        if (filtered.Length != height * (stride + 1)) throw new InvalidDataException($"PNG data is {filtered.Length} bytes, expected {height * (stride + 1)}");

        var pixels = new byte[height * stride];
        for (int y = 0; y < height; y++)
        {
            byte filter = filtered[y * (stride + 1)];
            for (int x = 0; x < stride; x++)
            {
                int v = filtered[y * (stride + 1) + 1 + x];
                int a = x >= channels ? pixels[y * stride + x - channels] : 0;
                int b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
                int c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
                v += filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"bad PNG filter {filter} in row {y}"),
                };
                pixels[y * stride + x] = (byte)v;
            }
        }
        return new Png(width, height, channels, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Pixel (x, y) as 0xRRGGBB; transparent pixels count as white, as a viewer shows them on a page.</summary>
    public int Rgb(int x, int y)
    {
        int i = (y * Width + x) * Channels;
        if (Channels == 4 && Pixels[i + 3] == 0) return 0xFFFFFF;
        return (Pixels[i] << 16) | (Pixels[i + 1] << 8) | Pixels[i + 2];
    }

    public int DistinctColors()
    {
        var seen = new HashSet<int>();
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++) seen.Add(Rgb(x, y));
        return seen.Count;
    }

    /// <summary>Variance of the pixels' brightness (0..255): 0 for a blank image.</summary>
    public double BrightnessVariance()
    {
        double sum = 0, sum2 = 0;
        int n = Width * Height;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                int rgb = Rgb(x, y);
                double l = ((rgb >> 16) + ((rgb >> 8) & 0xFF) + (rgb & 0xFF)) / 3.0;
                sum += l;
                sum2 += l * l;
            }
        double mean = sum / n;
        return sum2 / n - mean * mean;
    }

    /// <summary>Fraction of pixels that are not white.</summary>
    public double InkFraction()
    {
        int ink = 0;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                if (Rgb(x, y) != 0xFFFFFF) ink++;
        return (double)ink / (Width * Height);
    }
}
