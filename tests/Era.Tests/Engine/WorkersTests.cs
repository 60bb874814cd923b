using Era.Engine;
using Era.Engine.Kernels;
using Era.Engine.Layers;
using Era.Engine.Optim;
using Era.Engine.Training;

namespace Era.Tests.Engine;

/// <summary>
/// The thread team (Kernels/Workers.cs): every chunk once, errors passed on, no allocation, nested calls, and two
/// trainings on two threads at once that end exactly as when run one after the other (each call's arguments travel in
/// its own job, so neither can overwrite the other's).
/// </summary>
[Collection(EngineCollection.Name)]
public class WorkersTests
{
    /// <summary>Counts how often each chunk ran, and checks it was told the thread count.</summary>
    private readonly struct CountChunks(int[] hits, int[] wrongChunks) : IChunkJob
    {
        public void Execute(int chunk, int chunks)
        {
            Interlocked.Increment(ref hits[chunk]);
            if (chunks != Workers.Threads) Interlocked.Increment(ref wrongChunks[0]);
        }
    }

    private readonly struct ThrowIn(int badChunk) : IChunkJob
    {
        public void Execute(int chunk, int chunks)
        {
            if (chunk == badChunk) throw new InvalidOperationException($"chunk {chunk}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void StructJobRunsEveryChunkOnceAndAllocatesNothing(int threads)
    {
        torch.set_num_threads(threads);
        try
        {
            var hits = new int[threads];
            var wrong = new int[1];
            var job = new CountChunks(hits, wrong);
            Workers.Run(job);                                  // parallel
            Assert.Equal(Enumerable.Repeat(1, threads), hits);
            Workers.Run(job, work: 10);                        // small: serial on this thread, same chunks
            Workers.Run(job, work: Workers.MinParallelWork);   // large enough: parallel
            Assert.Equal(Enumerable.Repeat(3, threads), hits);
            Assert.Equal(0, wrong[0]);

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                Workers.Run(job);
                Workers.Run(job, work: 10);
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(Enumerable.Repeat(203, threads), hits);
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }

    [Fact]
    public void AnErrorInAChunkReachesTheCallerAndTheTeamGoesOn()
    {
        torch.set_num_threads(3);
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => Workers.Run(new ThrowIn(2)));
            Assert.Equal("chunk 2", e.Message);
            e = Assert.Throws<InvalidOperationException>(() => Workers.Run(new ThrowIn(0)));   // on the calling thread
            Assert.Equal("chunk 0", e.Message);
            var hits = new int[3];
            Workers.Run(new CountChunks(hits, new int[1]));
            Assert.Equal([1, 1, 1], hits);
            Assert.Equal((0, 3), Workers.Range(10, 0, 3));
            Assert.Equal((6, 10), Workers.Range(10, 2, 3));
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
        Assert.Equal(Environment.ProcessorCount, torch.get_num_threads());
    }

    /// <summary>Holds an array; used to check that the team does not keep a finished job's arrays alive.</summary>
    private readonly struct Touch(float[] data) : IChunkJob
    {
        public void Execute(int chunk, int chunks) => data[chunk] += 1;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference RunOnAFreshArray()
    {
        var data = new float[1 << 20];
        Workers.Run(new Touch(data));
        return new WeakReference(data);
    }

    [Fact]
    public void AFinishedJobDoesNotKeepItsArraysAlive()
    {
        torch.set_num_threads(2);
        try
        {
            var weak = RunOnAFreshArray();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Assert.False(weak.IsAlive, "the job slot still references the last job's array");
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }

    /// <summary>
    /// y[i] += i + 1 over [start, start + length), split into chunks; with <c>nest</c> each chunk runs its part as a
    /// second Workers.Run of the same job type (the case where a shared slot would be overwritten).
    /// </summary>
    private readonly struct Fill(float[] y, int start, int length, bool nest) : IChunkJob
    {
        public void Execute(int chunk, int chunks)
        {
            var (a, b) = Workers.Range(length, chunk, chunks);
            if (nest) Workers.Run(new Fill(y, start + a, b - a, nest: false), work: Workers.MinParallelWork);
            else
                for (int i = start + a; i < start + b; i++) y[i] += i + 1;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void NestedRunGivesTheSameResultAsUnnested(int threads)
    {
        torch.set_num_threads(threads);
        try
        {
            const int n = 100_003;
            var flat = new float[n];
            var nested = new float[n];
            Workers.Run(new Fill(flat, 0, n, nest: false));
            Workers.Run(new Fill(nested, 0, n, nest: true));
            Assert.Equal(Enumerable.Range(1, n).Select(i => (float)i), flat);   // every element once
            Assert.Equal(flat, nested);
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }

    /// <summary>
    /// A small net that runs every parallel job: Conv2d (FastConv2d), BatchNorm2d → ReLU → Dropout both fused and one by
    /// one (<paramref name="fusedFirst"/> says which block is which), MaxPool2d. Weights come from torch.default_generator
    /// (so nets are built on one thread); each Dropout draws from its own generator, so two trainings share none.
    /// </summary>
    private static Module<float> Net(int seed, bool fusedFirst)
    {
        torch.manual_seed(seed);
        Module<float> Block(int i, int o, bool fuse)
        {
            var dropout = new Dropout<float>(0.1, new Generator((ulong)(seed * 100 + o)));
            var (conv, norm, relu) = (new Conv2d<float>(i, o, 3, bias: false), new BatchNorm2d<float>(o), new ReLU<float>());
            // The block runs the fused kernel; the same four layers in a Sequential run one by one (their own fast paths).
            return fuse ? new ConvBnReluDropout<float>(conv, norm, relu, dropout) : new Sequential<float>(conv, norm, relu, dropout);
        }
        return new Sequential<float>(Block(1, 8, fusedFirst), Block(8, 12, !fusedFirst), new MaxPool2d<float>(2),
            Block(12, 16, fusedFirst), Block(16, 16, !fusedFirst), new AdaptiveAvgPool2d<float>(1), new Flatten<float>(),
            new Linear<float>(16, 10), new LogSoftmax<float>(1));
    }

    /// <summary>
    /// A few SGD steps on random images (from its own generator); returns every weight and buffer. Batch sizes
    /// alternate between large and small (from <paramref name="sizes"/>), so the same job types run both on the team
    /// and, below <see cref="Workers.MinParallelWork"/>, on the calling thread.
    /// </summary>
    private static float[] Train(Module<float> model, int seed, int[] sizes)
    {
        var g = new Generator((ulong)seed);
        var opt = new SGD<float>(model.parameters(), lr: 0.05, momentum: 0.9);
        var trainer = new Trainer(model, opt);
        model.train();
        for (int step = 0; step < 8; step++)
        {
            int n = sizes[step % sizes.Length];
            var x = KernelTests.RandomFloat(g, n, 1, 28, 28);
            int[] y = Enumerable.Range(0, n).Select(i => (i + step) % 10).ToArray();
            trainer.Step(x, y);
        }
        return model.state_dict().SelectMany(e => e.Tensor.Data).ToArray();
    }

    [Fact]
    public void TwoTrainingsOnTwoThreadsEndAsWhenRunOneAfterTheOther()
    {
        torch.set_num_threads(2);
        try
        {
            // One after the other…
            var a = Train(Net(1, fusedFirst: true), 11, [24, 3]);
            var b = Train(Net(2, fusedFirst: false), 12, [3, 24]);
            for (int round = 0; round < 3; round++)
            {
                // …and the same two at once: a job slot or module field shared between them would mix their numbers.
                var na = Net(1, fusedFirst: true);
                var nb = Net(2, fusedFirst: false);
                float[]? ca = null, cb = null;
                using var start = new Barrier(2);
                var ta = new Thread(() => { start.SignalAndWait(); ca = Train(na, 11, [24, 3]); });
                var tb = new Thread(() => { start.SignalAndWait(); cb = Train(nb, 12, [3, 24]); });
                ta.Start();
                tb.Start();
                ta.Join();
                tb.Join();
                Assert.Equal(a, ca);                            // bit for bit
                Assert.Equal(b, cb);
            }
            Assert.NotEqual(a, b);
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }
}
