namespace Era.Engine.Kernels;

/// <summary>
/// Counter-based random numbers for dropout masks: value i of a draw is SplitMix64(seed + i·γ), a pure function
/// of (seed, i). Each dropout call takes ONE seed from the global generator (in program order), then any thread
/// can compute any element: the mask does not depend on how the work is split across threads.
/// </summary>
public static class CounterRng
{
    /// <summary>64 random bits for counter <paramref name="i"/> of the stream <paramref name="seed"/> (SplitMix64 finalizer).</summary>
    public static ulong Bits(ulong seed, ulong i)
    {
        ulong z = seed + (i + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// The 32-bit uniform number for element <paramref name="i"/>: each 64-bit draw serves two elements
    /// (elements 2k and 2k+1 take the low and high halves of draw k).
    /// </summary>
    public static uint Uniform32(ulong seed, long i)
    {
        ulong bits = Bits(seed, (ulong)(i >> 1));
        return (i & 1) == 0 ? (uint)bits : (uint)(bits >> 32);
    }

    /// <summary>The threshold t with P(u &lt; t) = p for a uniform 32-bit u: element dropped when u &lt; t.</summary>
    public static ulong DropThreshold(double p) => (ulong)Math.Round(p * 4294967296.0);
}
