using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Era.Engine.Kernels;

/// <summary>
/// Counter-based random numbers for dropout masks: the uniform 32-bit number of element i is a pure function
/// Hash(seed, i), two rounds of a 32-bit integer hash (Wellons' "triple32"-style lowbias mixer: xor-shift,
/// multiply, xor-shift, multiply, xor-shift) keyed by the two halves of a 64-bit seed. Each dropout call takes ONE
/// seed from the global generator (in program order), then any thread can compute any element — with 8 or 16 lanes at
/// once (AVX2, AVX-512) or one at a time, same numbers — so the mask does not depend on how work is split across threads.
/// </summary>
public static class CounterRng
{
    private const uint M1 = 0x21f0aaad, M2 = 0x735a2d97;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Mix(uint x)
    {
        x ^= x >> 16;
        x *= M1;
        x ^= x >> 15;
        x *= M2;
        return x ^ (x >> 15);
    }

    /// <summary>Uniform 32-bit number for element <paramref name="i"/> of the stream <paramref name="seed"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(ulong seed, uint i) => Mix(Mix(i ^ (uint)seed) + (uint)(seed >> 32));

    /// <summary>The same as <see cref="Hash"/> for the 8 consecutive elements i, i+1, …, i+7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Hash8(ulong seed, uint i)
    {
        var x = Vector256.Create(i) + Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
        x = Mix8(x ^ Vector256.Create((uint)seed)) + Vector256.Create((uint)(seed >> 32));
        return Mix8(x);
    }

    /// <summary>The same for the 16 consecutive elements i, …, i+15 (AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Hash16(ulong seed, uint i)
    {
        var x = Vector512.Create(i) + Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        x = Mix16(x ^ Vector512.Create((uint)seed)) + Vector512.Create((uint)(seed >> 32));
        return Mix16(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Mix16(Vector512<uint> x)
    {
        x ^= Vector512.ShiftRightLogical(x, 16);
        x *= Vector512.Create(M1);
        x ^= Vector512.ShiftRightLogical(x, 15);
        x *= Vector512.Create(M2);
        return x ^ Vector512.ShiftRightLogical(x, 15);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Mix8(Vector256<uint> x)
    {
        x ^= Vector256.ShiftRightLogical(x, 16);
        x *= Vector256.Create(M1);
        x ^= Vector256.ShiftRightLogical(x, 15);
        x *= Vector256.Create(M2);
        return x ^ Vector256.ShiftRightLogical(x, 15);
    }

    /// <summary>The threshold t with P(u &lt; t) = p for a uniform 32-bit u (an element is dropped when u &lt; t); 2³² drops all.</summary>
    public static ulong DropThreshold(double p) => (ulong)Math.Round(p * 4294967296.0);
}
