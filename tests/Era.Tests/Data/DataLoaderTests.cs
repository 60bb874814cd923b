using Era.Data;
using Era.Engine;

namespace Era.Tests.Data;

public class DataLoaderTests
{
    /// <summary>n samples of shape [1, 2, 2] whose four values all equal the sample index; label = index mod 10.</summary>
    private static TensorDataset Indexed(int n)
    {
        var x = new float[n * 4];
        for (int i = 0; i < x.Length; i++) x[i] = i / 4;
        return new TensorDataset(new Tensor<float>(x, n, 1, 2, 2), Enumerable.Range(0, n).Select(i => i % 10).ToArray());
    }

    [Fact]
    public void InOrderWithAPartialLastBatch()
    {
        var loader = new DataLoader(Indexed(10), batch_size: 4);
        Assert.Equal(3, loader.Count);
        var seen = new List<float>();
        var sizes = new List<int>();
        foreach (var b in loader.Epoch())
        {
            sizes.Add(b.Count);
            Assert.Equal([b.Count, 1, 2, 2], b.Images.Shape);
            for (int i = 0; i < b.Count; i++)
            {
                seen.Add(b.Images.Data[i * 4]);
                Assert.Equal((int)b.Images.Data[i * 4 + 3] % 10, b.Labels[i]);
            }
        }
        Assert.Equal([4, 4, 2], sizes);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), seen);
    }

    [Fact]
    public void DropLastSkipsThePartialBatch()
    {
        var loader = new DataLoader(Indexed(10), batch_size: 4, drop_last: true);
        Assert.Equal(2, loader.Count);
        Assert.Equal([4, 4], loader.Epoch().Select(b => b.Count));
    }

    [Fact]
    public void ShuffleVisitsEverySampleOnceInASeededOrder()
    {
        List<float> Order(Generator g, int epochs)
        {
            var loader = new DataLoader(Indexed(50), batch_size: 8, shuffle: true, generator: g);
            var order = new List<float>();
            for (int e = 0; e < epochs; e++)
                foreach (var b in loader.Epoch())
                    for (int i = 0; i < b.Count; i++) order.Add(b.Images.Data[i * 4]);
            return order;
        }
        var a = Order(new Generator(7), 2);
        var again = Order(new Generator(7), 2);
        var other = Order(new Generator(8), 2);
        Assert.Equal(a, again);                                   // same seed, same order
        Assert.NotEqual(a, other);                                // another seed, another order
        Assert.NotEqual(a.Take(50), a.Skip(50));                  // reshuffled each epoch
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (float)i), a.Take(50).Order());
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (float)i), a.Take(50));
    }

    [Fact]
    public void OneEpochAtATimeBecauseBatchesShareTheirBuffers()
    {
        var loader = new DataLoader(Indexed(40), batch_size: 8, shuffle: true, generator: new Generator(3));
        using (var first = loader.Epoch().GetEnumerator())
        {
            Assert.True(first.MoveNext());
            var e = Assert.Throws<InvalidOperationException>(() => loader.Epoch().First());
            Assert.Contains("still being enumerated", e.Message);
        }
        Assert.Equal(5, loader.Epoch().Count());   // finished (disposed): the next epoch may start
    }

    [Fact]
    public void BatchesReuseTheirBuffersAndAllocateNothing()
    {
        var loader = new DataLoader(Indexed(1000), batch_size: 16, shuffle: true, generator: new Generator(1));
        using var e = loader.Epoch().GetEnumerator();
        Assert.True(e.MoveNext());
        var first = e.Current.Images;
        long before = GC.GetAllocatedBytesForCurrentThread();
        int count = 1;
        while (e.MoveNext())
        {
            if (e.Current.Count == 16) Assert.Same(first, e.Current.Images);
            count++;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(63, count);
    }

    [Fact]
    public void BadBatchSizeIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Indexed(3), batch_size: 0));
}
