using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Era.Engine.Kernels;

/// <summary>
/// This machine's measured float32 FMA throughput, the ceiling a kernel is judged against: on every worker thread,
/// twelve independent chains of fused multiply-adds (enough to keep two FMA units busy through a 4-cycle latency)
/// on registers only, no memory traffic. 2 flops per lane per FMA. Measured, not taken from a data sheet, so that
/// "share of peak" compares across machines whatever their clock, vector width or sharing.
/// </summary>
public static class Peak
{
    /// <summary>Vector widths the engine can run here: "avx2" (256-bit FMA) and, where accelerated, "avx512".</summary>
    public static IReadOnlyList<string> Isas()
    {
        var isas = new List<string>();
        if (Fma.IsSupported && Avx2.IsSupported) isas.Add("avx2");
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated) isas.Add("avx512");
        return isas;
    }

    /// <summary>The ISA the engine's convolution kernels run at here (<see cref="ConvKernels.VectorBits"/>), or null without FMA.</summary>
    public static string? EngineIsa => !Isas().Contains("avx2") ? null : ConvKernels.VectorBits == 512 ? "avx512" : "avx2";

    /// <summary>GFLOP/s of float32 FMAs at <paramref name="isa"/> on <see cref="Workers.Threads"/> threads: the best of three runs of about <paramref name="seconds"/>.</summary>
    public static double GigaflopsPerSecond(string isa, double seconds = 0.1)
    {
        int lanes = isa switch
        {
            "avx2" when Fma.IsSupported => 8,
            "avx512" when Avx512F.IsSupported => 16,
            _ => throw new ArgumentException($"peak: {isa} is not available on this CPU (available: {string.Join(", ", Isas())})"),
        };
        long iterations = 1 << 12;
        while (Time(lanes, iterations) < seconds / 4) iterations *= 4; // calibrate: long enough to time
        double best = 0;
        for (int round = 0; round < 3; round++)
            best = Math.Max(best, Workers.Threads * (double)iterations * Chains * lanes * 2 / Time(lanes, iterations) / 1e9);
        return best;
    }

    private static double Time(int lanes, long iterations)
    {
        var clock = Stopwatch.StartNew();
        Workers.Run(new FmaLoop(lanes, iterations));
        return clock.Elapsed.TotalSeconds;
    }

    private const int Chains = 12;

    /// <summary>One FMA loop per chunk; the sum is kept so the JIT cannot drop the work.</summary>
    private readonly struct FmaLoop(int lanes, long iterations) : IChunkJob
    {
        public void Execute(int chunk, int chunks) => Sink[chunk % Sink.Length] = lanes == 16 ? Loop512(iterations) : Loop256(iterations);
    }

    private static readonly float[] Sink = new float[64];

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long n)
    {
        var m = Vector256.Create(0.9999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < n; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c); a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c); a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c); a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long n)
    {
        var m = Vector512.Create(0.9999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < n; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, c); a1 = Avx512F.FusedMultiplyAdd(a1, m, c); a2 = Avx512F.FusedMultiplyAdd(a2, m, c);
            a3 = Avx512F.FusedMultiplyAdd(a3, m, c); a4 = Avx512F.FusedMultiplyAdd(a4, m, c); a5 = Avx512F.FusedMultiplyAdd(a5, m, c);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, c); a7 = Avx512F.FusedMultiplyAdd(a7, m, c); a8 = Avx512F.FusedMultiplyAdd(a8, m, c);
            a9 = Avx512F.FusedMultiplyAdd(a9, m, c); a10 = Avx512F.FusedMultiplyAdd(a10, m, c); a11 = Avx512F.FusedMultiplyAdd(a11, m, c);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
