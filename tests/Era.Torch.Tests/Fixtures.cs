using System.IO.Compression;
using Era.Engine;

namespace Era.Torch.Tests;

/// <summary>Tests that use libtorch or the global seeds run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "torch";
}

internal static class Fixtures
{
    /// <summary>Random MNIST-like images [n, 1, size, size] (normalized pixels, about N(0, 1)) and labels 0..9.</summary>
    public static (Tensor<float> Images, int[] Labels) Batch(int n, int seed, int size = 28)
    {
        var rng = new Random(seed);
        var x = new Tensor<float>(n, 1, size, size);
        for (int i = 0; i < x.Numel; i++) x.Data[i] = (float)(rng.NextDouble() * 3 - 0.5);
        return (x, Enumerable.Range(0, n).Select(_ => rng.Next(10)).ToArray());
    }

    /// <summary>
    /// Gives an engine model weights and BatchNorm statistics far from their initial values (so eval mode and every
    /// tensor matter): each float tensor gets a seeded random perturbation; running variances stay positive.
    /// </summary>
    public static void Perturb(Module<float> model, int seed)
    {
        var rng = new Random(seed);
        foreach (var (name, t) in model.state_dict())
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) { t.Data[0] = 7; continue; }
            for (int i = 0; i < t.Numel; i++)
            {
                float u = (float)(rng.NextDouble() - 0.5);
                t.Data[i] = name.EndsWith("running_var", StringComparison.Ordinal) ? 0.5f + Math.Abs(u) * 2
                    : name.EndsWith(".weight", StringComparison.Ordinal) && t.Rank == 1 ? 1 + u // BatchNorm's γ
                    : t.Data[i] + u * 0.2f;
            }
        }
    }

    /// <summary>Writes MNIST-shaped IDX files (gzip) of <paramref name="count"/> seeded random images with labels 0..9.</summary>
    public static void WriteMnist(string dir, string prefix, int count, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[count * 784];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(i => (byte)rng.Next(10)).ToArray();
        Write(Path.Combine(dir, $"{prefix}-images-idx3-ubyte.gz"), [count, 28, 28], pixels);
        Write(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte.gz"), [count], labels);

        static void Write(string path, int[] dims, byte[] data)
        {
            using var file = File.Create(path);
            using var gz = new GZipStream(file, CompressionLevel.Fastest);
            gz.Write([0, 0, 8, (byte)dims.Length]);
            foreach (int d in dims) gz.Write([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
            gz.Write(data);
        }
    }

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
