using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Era.Engine.Kernels;

/// <summary>
/// Element-wise loops written once for float and double with System.Numerics.Vector&lt;T&gt; (8 floats per step
/// with AVX2), plus a scalar tail. Each is the plain formula in its comment.
/// </summary>
public static class Elementwise
{
    /// <summary>y = max(x, 0)</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
        var vy = MemoryMarshal.Cast<T, Vector<T>>(y);
        for (int v = 0; v < vx.Length; v++) vy[v] = Vector.Max(vx[v], Vector<T>.Zero);
        for (i = vx.Length * Vector<T>.Count; i < x.Length; i++) y[i] = T.Max(x[i], T.Zero);
    }

    /// <summary>dx = dy where y &gt; 0, else 0</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReluBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var vy = MemoryMarshal.Cast<T, Vector<T>>(y);
        var vdy = MemoryMarshal.Cast<T, Vector<T>>(dy);
        var vdx = MemoryMarshal.Cast<T, Vector<T>>(dx);
        for (int v = 0; v < vy.Length; v++)
            vdx[v] = Vector.ConditionalSelect(Vector.GreaterThan(vy[v], Vector<T>.Zero), vdy[v], Vector<T>.Zero);
        for (int i = vy.Length * Vector<T>.Count; i < y.Length; i++) dx[i] = y[i] > T.Zero ? dy[i] : T.Zero;
    }

    /// <summary>z = a · b</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var va = MemoryMarshal.Cast<T, Vector<T>>(a);
        var vb = MemoryMarshal.Cast<T, Vector<T>>(b);
        var vz = MemoryMarshal.Cast<T, Vector<T>>(z);
        for (int v = 0; v < va.Length; v++) vz[v] = va[v] * vb[v];
        for (int i = va.Length * Vector<T>.Count; i < a.Length; i++) z[i] = a[i] * b[i];
    }

    /// <summary>y = x · scale</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale<T>(ReadOnlySpan<T> x, T scale, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
        var vy = MemoryMarshal.Cast<T, Vector<T>>(y);
        var vs = new Vector<T>(scale);
        for (int v = 0; v < vx.Length; v++) vy[v] = vx[v] * vs;
        for (int i = vx.Length * Vector<T>.Count; i < x.Length; i++) y[i] = x[i] * scale;
    }

    /// <summary>y = x · scale + shift</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine<T>(ReadOnlySpan<T> x, T scale, T shift, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
        var vy = MemoryMarshal.Cast<T, Vector<T>>(y);
        var vs = new Vector<T>(scale);
        var vb = new Vector<T>(shift);
        for (int v = 0; v < vx.Length; v++) vy[v] = vx[v] * vs + vb;
        for (int i = vx.Length * Vector<T>.Count; i < x.Length; i++) y[i] = x[i] * scale + shift;
    }

    /// <summary>Σ x (lane-wise partial sums, then the lanes in order: deterministic)</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
        var acc = Vector<T>.Zero;
        for (int v = 0; v < vx.Length; v++) acc += vx[v];
        T s = Vector.Sum(acc);
        for (int i = vx.Length * Vector<T>.Count; i < x.Length; i++) s += x[i];
        return s;
    }

    /// <summary>Σ (x − mean)²</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T SumSquaredDeviations<T>(ReadOnlySpan<T> x, T mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
        var vm = new Vector<T>(mean);
        var acc = Vector<T>.Zero;
        for (int v = 0; v < vx.Length; v++)
        {
            var d = vx[v] - vm;
            acc += d * d;
        }
        T s = Vector.Sum(acc);
        for (int i = vx.Length * Vector<T>.Count; i < x.Length; i++) s += (x[i] - mean) * (x[i] - mean);
        return s;
    }

    /// <summary>Σ a · b</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Dot<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var va = MemoryMarshal.Cast<T, Vector<T>>(a);
        var vb = MemoryMarshal.Cast<T, Vector<T>>(b);
        var acc = Vector<T>.Zero;
        for (int v = 0; v < va.Length; v++) acc += va[v] * vb[v];
        T s = Vector.Sum(acc);
        for (int i = va.Length * Vector<T>.Count; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>z = a · u + b · v + c</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LinearCombination<T>(T a, ReadOnlySpan<T> u, T b, ReadOnlySpan<T> v, T c, Span<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var vu = MemoryMarshal.Cast<T, Vector<T>>(u);
        var vv = MemoryMarshal.Cast<T, Vector<T>>(v);
        var vz = MemoryMarshal.Cast<T, Vector<T>>(z);
        Vector<T> va = new(a), vb = new(b), vc = new(c);
        for (int k = 0; k < vu.Length; k++) vz[k] = va * vu[k] + vb * vv[k] + vc;
        for (int i = vu.Length * Vector<T>.Count; i < u.Length; i++) z[i] = a * u[i] + b * v[i] + c;
    }

    /// <summary>(Σ (x − shift), Σ (x − shift)²) in one pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (T Sum, T SumOfSquares) SumAndSumOfSquares<T>(ReadOnlySpan<T> x, T shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
        var vk = new Vector<T>(shift);
        Vector<T> a1 = Vector<T>.Zero, a2 = Vector<T>.Zero;
        for (int v = 0; v < vx.Length; v++)
        {
            var d = vx[v] - vk;
            a1 += d;
            a2 += d * d;
        }
        T s1 = Vector.Sum(a1), s2 = Vector.Sum(a2);
        for (int i = vx.Length * Vector<T>.Count; i < x.Length; i++)
        {
            T d = x[i] - shift;
            s1 += d;
            s2 += d * d;
        }
        return (s1, s2);
    }
}
