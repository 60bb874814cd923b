using System.Numerics;

namespace Era.Engine;

/// <summary>
/// Output and gradient buffers are allocated once per input shape and reused (no allocation per batch).
/// Consequence, as in llm.c: the tensor a module returns is owned by the module and overwritten by its next call.
/// </summary>
internal static class Buffers
{
    public static Tensor<T> Ensure<T>(ref Tensor<T>? buffer, int d0, int d1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (buffer is { Rank: 2 } b && b.Shape[0] == d0 && b.Shape[1] == d1) return b;
        return buffer = new Tensor<T>(d0, d1);
    }

    public static Tensor<T> Ensure<T>(ref Tensor<T>? buffer, int d0, int d1, int d2, int d3) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (buffer is { Rank: 4 } b && b.Shape[0] == d0 && b.Shape[1] == d1 && b.Shape[2] == d2 && b.Shape[3] == d3) return b;
        return buffer = new Tensor<T>(d0, d1, d2, d3);
    }

    /// <summary>A buffer with the same shape as <paramref name="like"/>.</summary>
    public static Tensor<T> EnsureLike<T>(ref Tensor<T>? buffer, Tensor<T> like) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (buffer is { } b && b.SameShape(like)) return b;
        return buffer = new Tensor<T>(like.Shape);
    }

    public static T[] Ensure<T>(ref T[]? array, int length)
    {
        if (array is { } a && a.Length == length) return a;
        return array = new T[length];
    }
}
