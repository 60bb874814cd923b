using Era.Engine.Kernels;

namespace Era.Engine;

/// <summary>
/// Global state with TorchSharp's names: the seed of the default generator and the number of worker threads.
/// One seed controls everything (weight init, dropout masks, data shuffling); with the same seed and the same
/// thread count, two runs give bit-identical weights: every parallel loop splits its work into a fixed number
/// of chunks (one per thread) and reduces per-chunk partial sums in chunk order.
/// </summary>
#pragma warning disable IDE1006, CA1707, CS8981 // lower-case names on purpose: torch.manual_seed(1) reads like PyTorch
public static class torch
#pragma warning restore IDE1006, CA1707, CS8981
{
    /// <summary>The generator used by init, dropout and shuffling unless one is passed explicitly.</summary>
    public static Generator default_generator { get; } = new(0);

    public static Generator manual_seed(ulong seed) => default_generator.manual_seed(seed);

    public static Generator manual_seed(long seed) => default_generator.manual_seed(unchecked((ulong)seed));

    public static Generator manual_seed(int seed) => manual_seed((long)seed);

    /// <summary>
    /// Sets how many threads the kernels use (default: the number of processors). Set it between steps, never while
    /// a model runs on another thread.
    /// </summary>
    public static void set_num_threads(int threads) => Workers.SetThreads(threads);

    public static int get_num_threads() => Workers.Threads;

    /// <summary>
    /// Switches for the fast paths, in the place of torch.backends.cudnn. <see cref="fast.enabled"/> (default true)
    /// lets each layer that has a fast path use it where the type and the CPU allow: Conv2d's SIMD kernels, BatchNorm2d's
    /// one-pass threaded statistics, ConvBnReluDropout's fused BN → ReLU → Dropout, Dropout's vectorized mask and
    /// MaxPool2d's vectorized 2×2 window. False runs every layer's readable path instead, the formulas of its header as
    /// written (as llm.c's matmul_forward falls back to matmul_forward_naive); tests and notebook 4 check the two agree.
    /// Set it between steps, as the thread count.
    /// </summary>
#pragma warning disable IDE1006, CS8981 // torch.backends.fast.enabled, as torch.backends.cudnn.enabled
    public static class backends
    {
        /// <summary>The engine's fast kernels (torch.backends.cudnn's counterpart).</summary>
        public static class fast
        {
            public static bool enabled { get; set; } = true;

            /// <summary>Sets <see cref="enabled"/> until the returned scope is disposed, as torch.backends.cudnn.flags(enabled=...).</summary>
            public static IDisposable flags(bool enabled)
            {
                bool previous = fast.enabled;
                fast.enabled = enabled;
                return new Restore(() => fast.enabled = previous);
            }

            private sealed class Restore(Action undo) : IDisposable
            {
                public void Dispose() => undo();
            }
        }
    }
#pragma warning restore IDE1006, CS8981
}
