using System.Globalization;

namespace Era.Backprop;

/// <summary>
/// The eight weights of the 2-2-2 network, or eight gradients ∂E_total/∂w1..w8 (same shape, same names).
/// w1..w4 connect the inputs to the hidden layer, w5..w8 the hidden layer to the outputs:
/// h1 = w1·i1 + w2·i2, h2 = w3·i1 + w4·i2, o1 = w5·a_h1 + w6·a_h2, o2 = w7·a_h1 + w8·a_h2.
/// </summary>
public readonly record struct Weights(double W1, double W2, double W3, double W4, double W5, double W6, double W7, double W8)
{
    public const int Count = 8;

    /// <summary>The weights' names, in order: "w1" .. "w8".</summary>
    public static IReadOnlyList<string> Names { get; } = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"];

    /// <summary>Weight k, 1-based as in the course (this[1] is w1).</summary>
    public double this[int k] => k switch
    {
        1 => W1,
        2 => W2,
        3 => W3,
        4 => W4,
        5 => W5,
        6 => W6,
        7 => W7,
        8 => W8,
        _ => throw new ArgumentOutOfRangeException(nameof(k), k, "weights are numbered 1..8"),
    };

    public static Weights FromArray(IReadOnlyList<double> w)
    {
        if (w.Count != Count)
            throw new ArgumentException($"expected {Count} weights (w1..w8), got {w.Count}", nameof(w));
        return new Weights(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
    }

    public double[] ToArray() => [W1, W2, W3, W4, W5, W6, W7, W8];

    /// <summary>One gradient-descent step: w ← w − η·∂E/∂w for every weight.</summary>
    public Weights Step(Weights gradients, double learningRate) => new(
        W1 - learningRate * gradients.W1, W2 - learningRate * gradients.W2,
        W3 - learningRate * gradients.W3, W4 - learningRate * gradients.W4,
        W5 - learningRate * gradients.W5, W6 - learningRate * gradients.W6,
        W7 - learningRate * gradients.W7, W8 - learningRate * gradients.W8);

    public override string ToString() =>
        string.Join(", ", ToArray().Select((v, i) => $"{Names[i]}={v.ToString("R", CultureInfo.InvariantCulture)}"));
}
