using Era.Data;
using Era.Engine;

namespace Era.Tests.Data;

/// <summary>Rotations and shifts against exact cases (identity, whole-pixel shifts, 90° and 180° turns); draws in range and reproducible; the augmenting loader keeps labels and is seeded.</summary>
public class AugmentationTests
{
    private const int H = 6, W = 5;

    /// <summary>Pixel (y, x) = 10·y + x + 1: every pixel distinct.</summary>
    private static float[] Ramp()
    {
        var img = new float[H * W];
        for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) img[y * W + x] = 10 * y + x + 1;
        return img;
    }

    private static float[] Transform(float[] img, int h, int w, double degrees, double dx, double dy)
    {
        var output = new float[h * w];
        Augmentation.Transform(img, output, h, w, degrees, dx, dy, fill: -1);
        return output;
    }

    [Fact]
    public void ZeroAngleAndShiftIsTheIdentity() => Assert.Equal(Ramp(), Transform(Ramp(), H, W, 0, 0, 0));

    [Fact]
    public void WholePixelShiftsMoveThePixelsAndFillTheRest()
    {
        var img = Ramp();
        var y = Transform(img, H, W, 0, dx: 2, dy: -1); // two right, one up
        for (int r = 0; r < H; r++)
            for (int c = 0; c < W; c++)
            {
                int sr = r + 1, sc = c - 2;   // out(r, c) = in(r + 1, c − 2)
                float expected = sr < H && sc >= 0 ? img[sr * W + sc] : -1;
                Assert.Equal(expected, y[r * W + c]);
            }
    }

    [Fact]
    public void HalfPixelShiftAveragesNeighbours()
    {
        var img = Ramp();
        var y = Transform(img, H, W, 0, dx: 0.5, dy: 0);
        Assert.Equal((img[1] + img[2]) / 2, y[2], 5);      // out(0, 2) = mean of in(0, 1) and in(0, 2)
        Assert.Equal((-1 + img[0]) / 2, y[0], 5);          // the left edge mixes in the fill
    }

    [Fact]
    public void HalfTurnAboutTheCentreReversesTheImage()
    {
        var img = Ramp();
        var y = Transform(img, H, W, 180, 0, 0);
        for (int i = 0; i < img.Length; i++) Assert.Equal(img[img.Length - 1 - i], y[i], 4);
    }

    [Fact]
    public void QuarterTurnsOfASquareImageAreTranspositions()
    {
        const int n = 5;
        var img = new float[n * n];
        for (int i = 0; i < img.Length; i++) img[i] = i + 1;
        var a = Transform(img, n, n, 90, 0, 0);
        var b = Transform(img, n, n, -90, 0, 0);
        // One turn maps (r, c) to (c, n−1−r), the other to (n−1−c, r): both are permutations, inverse to each other.
        Assert.Equal(img.Order(), a.Select(v => MathF.Round(v, 3)).Order());
        Assert.Equal(img, Transform(a, n, n, -90, 0, 0).Select(v => MathF.Round(v, 3)));
        bool first = Enumerable.Range(0, n * n).All(i => MathF.Abs(a[(i % n) * n + (n - 1 - i / n)] - img[i]) < 1e-3);
        bool second = Enumerable.Range(0, n * n).All(i => MathF.Abs(a[(n - 1 - i % n) * n + i / n] - img[i]) < 1e-3);
        Assert.True(first ^ second);
        Assert.NotEqual(a.Select(v => MathF.Round(v, 3)), b.Select(v => MathF.Round(v, 3)));
    }

    [Fact]
    public void DrawsStayInRangeCoverItAndAreReproducible()
    {
        var aug = new Augmentation(MaxDegrees: 7, MaxShift: 2);
        var draws = Enumerable.Range(0, 2000).Select(i => aug.Draw(seed: 42, i)).ToArray();
        Assert.All(draws, d =>
        {
            Assert.InRange(d.Degrees, -7, 7);
            Assert.InRange(d.Dx, -2, 2);
            Assert.InRange(d.Dy, -2, 2);
        });
        Assert.True(draws.Min(d => d.Degrees) < -6.5 && draws.Max(d => d.Degrees) > 6.5);
        Assert.True(Math.Abs(draws.Average(d => d.Dx)) < 0.15);
        Assert.Equal(draws, Enumerable.Range(0, 2000).Select(i => aug.Draw(seed: 42, i)));
        Assert.NotEqual(draws[..10], Enumerable.Range(0, 10).Select(i => aug.Draw(seed: 43, i)));
        Assert.Equal(-0.1307f / 0.3081f, Augmentation.Default.Fill, 6);   // a black pixel, normalized
    }

    /// <summary>n 8×8 images; image i is a bright square whose grey level i+1 identifies it; label i mod 10.</summary>
    private static TensorDataset Squares(int n)
    {
        var x = new float[n * 64];
        for (int i = 0; i < n; i++)
            for (int r = 2; r < 6; r++) for (int c = 2; c < 6; c++) x[i * 64 + r * 8 + c] = i + 1;
        return new TensorDataset(new Tensor<float>(x, n, 1, 8, 8), Enumerable.Range(0, n).Select(i => i % 10).ToArray());
    }

    private static List<(float[] Images, int[] Labels)> Epoch(DataLoader loader, int stopAfter = int.MaxValue)
    {
        var batches = new List<(float[], int[])>();
        foreach (var b in loader.Epoch())
        {
            batches.Add((b.Images.Data.ToArray(), b.Labels.ToArray()));
            if (batches.Count == stopAfter) break;
        }
        return batches;
    }

    [Fact]
    public void AugmentingLoaderKeepsLabelsAndIsSeeded()
    {
        var data = Squares(50);
        var aug = new Augmentation(MaxDegrees: 10, MaxShift: 1.5, Fill: 0);
        var a = new DataLoader(data, 16, shuffle: true, generator: new Generator(7), augmentation: aug);
        var first = Epoch(a);
        Assert.Equal([16, 16, 16, 2], first.Select(b => b.Labels.Length));
        foreach (var (images, labels) in first)
            for (int i = 0; i < labels.Length; i++)
            {
                var img = images.AsSpan(i * 64, 64).ToArray();
                float level = img.Max();                         // the square's grey level says which image it was
                int index = (int)Math.Round(level) - 1;
                Assert.Equal(index % 10, labels[i]);
                Assert.InRange(img.Sum(), 0.85 * 16 * level, 1.15 * 16 * level); // the square moved, not lost
                Assert.NotEqual(data.Images.Data.Skip(index * 64).Take(64), img);
            }
        var again = Epoch(new DataLoader(data, 16, shuffle: true, generator: new Generator(7), augmentation: aug));
        Assert.Equal(first.SelectMany(b => b.Images), again.SelectMany(b => b.Images));
        var second = Epoch(a);   // the next epoch: a new order and new transforms
        Assert.NotEqual(first.SelectMany(b => b.Images), second.SelectMany(b => b.Images));
        Assert.Equal(first.SelectMany(b => b.Labels).Order(), second.SelectMany(b => b.Labels).Order());
    }

    [Fact]
    public void StoppingAnAugmentedEpochEarlyEndsItsWorker()
    {
        var loader = new DataLoader(Squares(100), 10, shuffle: true, generator: new Generator(1), augmentation: Augmentation.Default);
        Assert.Single(Epoch(loader, stopAfter: 1));
        Assert.Equal(10, Epoch(loader).Count);   // a new epoch can start: the first one was closed
    }

    [Fact]
    public void WithoutAugmentationTheLoaderCopiesImagesUnchanged()
    {
        var data = Squares(20);
        var batches = Epoch(new DataLoader(data, 20));
        Assert.Equal(data.Images.Data, batches[0].Images);
    }
}
