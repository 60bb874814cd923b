using Era.Engine.Kernels;

namespace Era.Data;

/// <summary>
/// Training-time augmentation for digits: each image is rotated by a random angle in [−MaxDegrees, MaxDegrees] about
/// its centre and shifted by a random (dx, dy) in [−MaxShift, MaxShift] pixels, with bilinear resampling; pixels that
/// come from outside the image get <see cref="Fill"/> (the normalized value of a black pixel). Labels do not change.
/// <para>
/// Each image's three numbers are a pure function of (epoch seed, position in the epoch) through the counter hash
/// <see cref="CounterRng"/>, so a batch comes out the same whichever thread prepares it: one seed per epoch, drawn
/// from the loader's generator, fixes the whole epoch.
/// </para>
/// The output pixel at (x, y) reads the input at the inverse transform of (x, y):
/// <code>
///   (u, v) = R(−θ) · (x − cx − dx, y − cy − dy) + (cx, cy),   cx = (W − 1)/2, cy = (H − 1)/2
///   out(x, y) = bilinear(in, u, v)   (Fill outside the image)
/// </code>
/// </summary>
public sealed record Augmentation(double MaxDegrees = 7, double MaxShift = 2, float Fill = -Mnist.Mean / Mnist.Std)
{
    /// <summary>The course's augmentation: ±7° and ±2 pixels.</summary>
    public static Augmentation Default { get; } = new();

    /// <summary>The random angle (degrees) and shift (pixels) of the image at <paramref name="position"/> in the epoch of <paramref name="seed"/>.</summary>
    public (double Degrees, double Dx, double Dy) Draw(ulong seed, int position)
    {
        uint i = (uint)position * 3;
        double U(uint k) => CounterRng.Hash(seed, i + k) * (1.0 / 4294967296.0) * 2 - 1; // uniform in [−1, 1)
        return (MaxDegrees * U(0), MaxShift * U(1), MaxShift * U(2));
    }

    /// <summary>Augments one image (H × W floats) of the epoch of <paramref name="seed"/> at <paramref name="position"/>.</summary>
    public void Apply(ReadOnlySpan<float> image, Span<float> output, int height, int width, ulong seed, int position)
    {
        var (degrees, dx, dy) = Draw(seed, position);
        Transform(image, output, height, width, degrees, dx, dy, Fill);
    }

    /// <summary>Rotates <paramref name="image"/> by <paramref name="degrees"/> about its centre and shifts it by (dx, dy) pixels (x right, y down), bilinear.</summary>
    public static void Transform(ReadOnlySpan<float> image, Span<float> output, int height, int width, double degrees, double dx, double dy, float fill)
    {
        if (image.Length < height * width || output.Length < height * width)
            throw new ArgumentException($"Augmentation: expected {height}×{width} pixels, got {image.Length} in and {output.Length} out");
        double theta = degrees * Math.PI / 180, cos = Math.Cos(theta), sin = Math.Sin(theta);
        double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                // Inverse map: undo the shift, then undo the rotation.
                double px = x - cx - dx, py = y - cy - dy;
                double u = cos * px - sin * py + cx, v = sin * px + cos * py + cy;
                output[y * width + x] = Bilinear(image, height, width, u, v, fill);
            }
        }
    }

    /// <summary>in(u, v) by bilinear interpolation of the four neighbours; neighbours outside the image count as <paramref name="fill"/>.</summary>
    private static float Bilinear(ReadOnlySpan<float> image, int height, int width, double u, double v, float fill)
    {
        int x0 = (int)Math.Floor(u), y0 = (int)Math.Floor(v);
        double ax = u - x0, ay = v - y0;
        double top = (1 - ax) * At(image, height, width, x0, y0, fill) + ax * At(image, height, width, x0 + 1, y0, fill);
        double bottom = (1 - ax) * At(image, height, width, x0, y0 + 1, fill) + ax * At(image, height, width, x0 + 1, y0 + 1, fill);
        return (float)((1 - ay) * top + ay * bottom);
    }

    private static float At(ReadOnlySpan<float> image, int height, int width, int x, int y, float fill) =>
        x >= 0 && x < width && y >= 0 && y < height ? image[y * width + x] : fill;
}
