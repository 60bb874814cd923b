namespace Era.Engine;

/// <summary>
/// A small, documented, deterministic pseudo-random generator: xoshiro256** (Blackman and Vigna, 2018), seeded
/// through SplitMix64 as its authors recommend. Same seed ⇒ same sequence on every machine and .NET version.
/// Not thread-safe: draw from one thread (the layers do; parallel kernels get a seed from here and hash it).
/// </summary>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;

    public Generator(ulong seed = 0) => manual_seed(seed);

    /// <summary>The seed last set (as torch.Generator.initial_seed()).</summary>
    public ulong InitialSeed { get; private set; }

    public Generator manual_seed(ulong seed)
    {
        InitialSeed = seed;
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
        return this;
    }

    /// <summary>The whole state, seed included, to put back after drawing that must not count (as get_state/set_state).</summary>
    internal (ulong InitialSeed, ulong S0, ulong S1, ulong S2, ulong S3) State
    {
        get => (InitialSeed, _s0, _s1, _s2, _s3);
        set => (InitialSeed, _s0, _s1, _s2, _s3) = value;
    }

    /// <summary>Sets the raw xoshiro256** state (for checking against the published test vectors).</summary>
    internal void SetState(ulong s0, ulong s1, ulong s2, ulong s3) => (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);

    /// <summary>SplitMix64 step: turns a counter into well-mixed 64-bit values (used for seeding).</summary>
    public static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Next 64 random bits (xoshiro256**).</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Next 32 random bits (the high half, the best bits of xoshiro256**).</summary>
    public uint NextUInt() => (uint)(NextUInt64() >> 32);

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, n), unbiased (rejection sampling).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"Generator.NextInt: n must be positive, got {n}");
        ulong range = (ulong)n, limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return (int)(r % range);
    }

    /// <summary>A random permutation of 0..n-1 (Fisher–Yates), as torch.randperm(n).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        Permutation(p);
        return p;
    }

    /// <summary>Fills <paramref name="destination"/> with a random permutation of 0..Length-1 (no allocation).</summary>
    public void Permutation(Span<int> destination)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = i;
        for (int i = destination.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (destination[i], destination[j]) = (destination[j], destination[i]);
        }
    }
}
