using System.Numerics;

namespace Era.Engine;

/// <summary>
/// A dense, contiguous, row-major tensor (NCHW for images) over float (training) or double (gradient checks).
/// Deliberately simple: a shape and a flat array. Operations live in the modules and in <see cref="Ops"/>,
/// each with its forward and backward side by side.
/// </summary>
public sealed class Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public int[] Shape { get; }
    public T[] Data { get; }

    public Tensor(params int[] shape) : this(new T[CheckedSize(shape)], shape) { }

    public Tensor(T[] data, params int[] shape)
    {
        long n = CheckedSize(shape);
        if (data.Length != n)
            throw new ArgumentException($"Tensor: data has {data.Length} elements but shape {ShapeString(shape)} needs {n}");
        Shape = (int[])shape.Clone();
        Data = data;
    }

    public int Rank => Shape.Length;
    public int Numel => Data.Length;
    public int Size(int dim) => Shape[dim < 0 ? dim + Shape.Length : dim];
    public Span<T> Span => Data;

    public static Tensor<T> Zeros(params int[] shape) => new(shape);

    public Tensor<T> Clone() => new((T[])Data.Clone(), Shape);

    /// <summary>The same data seen with another shape of the same size (no copy).</summary>
    public Tensor<T> View(params int[] shape) => new(Data, shape);

    public void Fill(T value) => Array.Fill(Data, value);
    public void Zero() => Array.Clear(Data);

    public bool SameShape(Tensor<T> other) => Shape.AsSpan().SequenceEqual(other.Shape);

    public void CopyFrom(Tensor<T> source)
    {
        Shapes.CheckSame("copy", this, source);
        source.Data.AsSpan().CopyTo(Data);
    }

    public override string ToString() => $"Tensor<{typeof(T).Name}>{ShapeString(Shape)}";

    public static string ShapeString(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    private static int CheckedSize(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Tensor: negative dimension in shape {ShapeString(shape)}");
            n *= d;
            if (n > Array.MaxLength) throw new ArgumentException($"Tensor: shape {ShapeString(shape)} is too large");
        }
        return (int)n;
    }
}

/// <summary>Shape checks whose messages name the operation and both shapes.</summary>
public static class Shapes
{
    public static void CheckSame<T>(string op, Tensor<T> a, Tensor<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!a.SameShape(b))
            throw new ArgumentException($"{op}: shapes {Tensor<T>.ShapeString(a.Shape)} and {Tensor<T>.ShapeString(b.Shape)} do not match");
    }

    /// <summary>As <see cref="CheckInput{T}(string, Tensor{T}, int[])"/> for rank 2, without allocating (used per batch).</summary>
    public static void CheckInput<T>(string op, Tensor<T> x, int d0, int d1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Rank != 2 || (d0 >= 0 && x.Shape[0] != d0) || (d1 >= 0 && x.Shape[1] != d1))
            CheckInput(op, x, [d0, d1]);
    }

    /// <summary>As <see cref="CheckInput{T}(string, Tensor{T}, int[])"/> for rank 4, without allocating (used per batch).</summary>
    public static void CheckInput<T>(string op, Tensor<T> x, int d0, int d1, int d2, int d3) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Rank != 4 || (d0 >= 0 && x.Shape[0] != d0) || (d1 >= 0 && x.Shape[1] != d1) || (d2 >= 0 && x.Shape[2] != d2) || (d3 >= 0 && x.Shape[3] != d3))
            CheckInput(op, x, [d0, d1, d2, d3]);
    }

    /// <summary>Checks rank and the given dimensions (-1 = any) of an input, e.g. [N, 16, H, W] for a conv.</summary>
    public static void CheckInput<T>(string op, Tensor<T> x, params int[] expected) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool ok = x.Rank == expected.Length;
        for (int i = 0; ok && i < expected.Length; i++) ok = expected[i] < 0 || expected[i] == x.Shape[i];
        if (!ok)
        {
            string want = "[" + string.Join(", ", expected.Select(d => d < 0 ? "*" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
            throw new ArgumentException($"{op}: expected input of shape {want}, got {Tensor<T>.ShapeString(x.Shape)}");
        }
    }
}
