namespace Era.Backprop;

/// <summary>
/// Everything that defines one run of the 2-2-2 network: inputs, targets, initial weights, learning rate, and the
/// optional fixed biases b1 (added to h1 and h2) and b2 (added to o1 and o2), which are never trained.
/// </summary>
public readonly record struct NetworkConfig(
    double I1, double I2, double T1, double T2, Weights Weights, double LearningRate, double B1 = 0, double B2 = 0)
{
    /// <summary>The initial weights both presets share: 0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55.</summary>
    public static Weights DefaultWeights { get; } = new(0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55);

    /// <summary>The classic worked example: targets 0.01 and 0.99.</summary>
    public static NetworkConfig Classic { get; } = new(0.05, 0.1, 0.01, 0.99, DefaultWeights, 0.5);

    /// <summary>The course spreadsheet: both targets 0.5.</summary>
    public static NetworkConfig Era { get; } = new(0.05, 0.1, 0.5, 0.5, DefaultWeights, 0.5);

    public static IReadOnlyList<string> PresetNames { get; } = ["classic", "era"];

    /// <summary>The preset by name ("classic" or "era", any case).</summary>
    public static NetworkConfig Preset(string name) => name.Trim().ToLowerInvariant() switch
    {
        "classic" => Classic,
        "era" => Era,
        _ => throw new ArgumentException($"unknown preset '{name}' (expected one of: {string.Join(", ", PresetNames)})", nameof(name)),
    };

    public bool HasBiases => B1 != 0 || B2 != 0;

    /// <summary>Throws if a value would make the run meaningless (NaN, infinity, η ≤ 0).</summary>
    public void Validate()
    {
        static void Finite(double v, string name)
        {
            if (!double.IsFinite(v)) throw new ArgumentException($"{name} must be a finite number, got {v}");
        }
        Finite(I1, "i1"); Finite(I2, "i2"); Finite(T1, "t1"); Finite(T2, "t2"); Finite(B1, "b1"); Finite(B2, "b2");
        for (int k = 1; k <= Weights.Count; k++) Finite(Weights[k], $"w{k}");
        Finite(LearningRate, "learning rate");
        if (LearningRate <= 0) throw new ArgumentException($"learning rate must be > 0, got {LearningRate}");
    }
}
