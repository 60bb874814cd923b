using Era.Engine;
using Era.Engine.Models;

namespace Era.Tests.Engine;

[Collection(EngineCollection.Name)]
public class DeterminismTests
{
    /// <summary>A few SGD steps (p −= lr·g, written inline) of ReferenceNet on random data; returns all weights.</summary>
    private static float[] Train(ulong seed, int threads, int steps = 3)
    {
        torch.set_num_threads(threads);
        torch.manual_seed(seed);
        var net = ModelZoo.Create("reference", dropout: 0.1);
        var g = new Generator(123);
        var x = KernelTests.RandomFloat(g, 16, 1, 28, 28);
        int[] y = Enumerable.Range(0, 16).Select(i => i % 10).ToArray();
        var ps = net.parameters().ToList();
        for (int s = 0; s < steps; s++)
        {
            foreach (var p in ps) p.Grad.Zero();
            var loss = F.nll_loss(net.Forward(x), y);
            net.Backward(loss.Grad);
            foreach (var p in ps)
                for (int i = 0; i < p.Numel; i++) p.Value.Data[i] -= 0.05f * p.Grad.Data[i];
        }
        return net.state_dict().SelectMany(e => e.Tensor.Data).ToArray();
    }

    [Fact]
    public void SameSeedAndThreadsGiveBitIdenticalWeights()
    {
        try
        {
            var a = Train(7, 2);
            var b = Train(7, 2);
            Assert.Equal(a, b);                       // exact, bit for bit
            var c = Train(8, 2);
            Assert.NotEqual(a, c);
            var one = Train(7, 1);                    // another thread count: same math, summed in another order
            for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - one[i]) <= 1e-3f * (1 + Math.Abs(a[i])), $"weight {i}: {a[i]} vs {one[i]}");
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }

    [Fact]
    public void DropoutMaskDoesNotDependOnTheThreadCount()
    {
        try
        {
            float[] Mask(int threads)
            {
                torch.set_num_threads(threads);
                torch.manual_seed(21);
                var d = new Era.Engine.Layers.Dropout<float>(0.5);
                var x = new Tensor<float>(3, 5, 33, 33);   // 16,335 elements: chunk borders fall mid-vector
                x.Fill(1f);
                d.Forward(x);
                d.Forward(x);                               // the second call draws a new seed
                return d.Mask!.Data.ToArray();
            }
            var one = Mask(1);
            Assert.Equal(one, Mask(2));
            Assert.Equal(one, Mask(3));
            torch.manual_seed(21);
            var first = new Era.Engine.Layers.Dropout<float>(0.5);
            var ones = new Tensor<float>(3, 5, 33, 33);
            ones.Fill(1f);
            first.Forward(ones);
            Assert.NotEqual(one, first.Mask!.Data);         // successive calls draw different masks
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }

    [Fact]
    public void SteadyStateTrainingStepAllocatesNothing()
    {
        torch.set_num_threads(2);
        try
        {
            torch.manual_seed(1);
            var net = ModelZoo.Create("reference");
            var x = KernelTests.RandomFloat(new Generator(1), 32, 1, 28, 28);
            int[] y = Enumerable.Range(0, 32).Select(i => i % 10).ToArray();
            var ps = net.parameters().ToArray();
            var grad = new Tensor<float>(32, 10);
            void Step()
            {
                foreach (var p in ps) p.Grad.Zero();
                var loss = F.nll_loss(net.Forward(x), y, grad);
                net.Backward(loss.Grad);
                foreach (var p in ps)
                    for (int i = 0; i < p.Numel; i++) p.Value.Data[i] -= 0.01f * p.Grad.Data[i];
            }
            for (int i = 0; i < 3; i++) Step();        // first calls allocate the buffers
            // The worker threads are checked through the process-wide count, which the test runner's own threads
            // may also move now and then: the least of three windows is the engine's.
            long total = long.MaxValue;
            for (int window = 0; window < 3; window++)
            {
                long thread0 = GC.GetAllocatedBytesForCurrentThread(), total0 = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < 3; i++) Step();
                total = Math.Min(total, GC.GetTotalAllocatedBytes(precise: true) - total0);
                Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - thread0);
            }
            Assert.True(total < 16 * 1024, $"{total} bytes allocated by all threads in 3 steady-state steps");
        }
        finally
        {
            torch.set_num_threads(Environment.ProcessorCount);
        }
    }
}
