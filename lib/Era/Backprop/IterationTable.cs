namespace Era.Backprop;

/// <summary>Row k of the table: the weights used at iteration k and everything computed from them.</summary>
public sealed record IterationRow(int Iteration, Weights Weights, ForwardPass Forward, Weights Gradients);

/// <summary>The spreadsheet-style table of gradient descent: row k+1's weights are row k's after one update.</summary>
public sealed class IterationTable
{
    public const int DefaultIterations = 181;

    public NetworkConfig Config { get; }
    public IReadOnlyList<IterationRow> Rows { get; }

    private IterationTable(NetworkConfig config, IReadOnlyList<IterationRow> rows)
    {
        Config = config;
        Rows = rows;
    }

    public double LearningRate => Config.LearningRate;

    public static IterationTable Run(NetworkConfig config, int iterations = DefaultIterations) =>
        new(config, Stream(config, iterations).ToArray());

    /// <summary>
    /// The same rows one at a time, computed as they are read: a million iterations never sit in memory together.
    /// The arguments are checked here, before the first row is asked for.
    /// </summary>
    public static IEnumerable<IterationRow> Stream(NetworkConfig config, int iterations = DefaultIterations)
    {
        config.Validate();
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "iterations must be ≥ 1");
        return Rows(config, iterations);

        static IEnumerable<IterationRow> Rows(NetworkConfig config, int iterations)
        {
            var w = config.Weights;
            for (int k = 0; k < iterations; k++)
            {
                var f = TwoLayerNetwork.Forward(config, w);
                var g = TwoLayerNetwork.Gradients(config, w, f);
                yield return new IterationRow(k + 1, w, f, g);
                w = w.Step(g, config.LearningRate);
            }
        }
    }

    /// <summary>E_total of every row, in order.</summary>
    public double[] Losses() => Rows.Select(r => r.Forward.ETotal).ToArray();
}

/// <summary>The same run at several learning rates, one table per η.</summary>
public static class LearningRateSweep
{
    public static IReadOnlyList<double> DefaultRates { get; } = [0.1, 0.2, 0.5, 0.8, 1.0, 2.0];

    public static IReadOnlyList<IterationTable> Run(
        NetworkConfig config, IEnumerable<double>? learningRates = null, int iterations = IterationTable.DefaultIterations) =>
        (learningRates ?? DefaultRates).Select(lr => IterationTable.Run(config with { LearningRate = lr }, iterations)).ToList();
}
