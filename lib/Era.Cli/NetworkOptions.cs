using System.CommandLine;
using Era.Backprop;

namespace Era.Cli;

/// <summary>
/// The options that describe a 2-2-2 network run, shared by `backprop`, `excel`, `plot` and `derive`:
/// --preset, --inputs, --targets, --weights, --biases, --lr, --iterations. Typed: a bad value is refused while parsing,
/// with the option's name and its limit.
/// </summary>
public sealed class NetworkOptions
{
    public const int MaxIterations = 1_000_000;

    public Option<string> Preset { get; } = TypedOptions.Choice("--preset", "classic (t1=0.01, t2=0.99) or era (t1=t2=0.5)", ["classic", "era"], "classic");
    public Option<double[]?> Inputs { get; } = TypedOptions.Numbers("--inputs", "i1,i2", count: 2);
    public Option<double[]?> Targets { get; } = TypedOptions.Numbers("--targets", "t1,t2", count: 2);
    public Option<double[]?> Weights { get; } = TypedOptions.Numbers("--weights", "w1,w2,w3,w4,w5,w6,w7,w8", count: 8);
    public Option<double[]?> Biases { get; } = TypedOptions.Numbers("--biases", "b1,b2: fixed biases added to h1,h2 and o1,o2 (not trained)", count: 2);
    public Option<double?> LearningRate { get; } = TypedOptions.Number("--lr", "learning rate η > 0 (default 0.5)", positive: true, what: "learning rate");
    public Option<int> Iterations { get; }

    /// <param name="maxIterations">The verb's own limit on --iterations (a workbook's rows, a plot's points), which its
    /// help states; the verb refuses more with its reason.</param>
    public NetworkOptions(int maxIterations = MaxIterations) =>
        Iterations = TypedOptions.Int("--iterations", $"rows in the table, 1 to {maxIterations} (default {IterationTable.DefaultIterations})",
            1, MaxIterations, IterationTable.DefaultIterations);

    /// <param name="withLearningRate">false for verbs that take a list of rates instead (--lrs).</param>
    /// <param name="withIterations">false for verbs with their own meaning of --iterations.</param>
    public void AddTo(Command command, bool withLearningRate = true, bool withIterations = true)
    {
        command.Options.Add(Preset);
        command.Options.Add(Inputs);
        command.Options.Add(Targets);
        command.Options.Add(Weights);
        command.Options.Add(Biases);
        if (withLearningRate) command.Options.Add(LearningRate);
        if (withIterations) command.Options.Add(Iterations);
    }

    public NetworkConfig Config(ParseResult parse)
    {
        var c = NetworkConfig.Preset(parse.GetValue(Preset) ?? "classic");
        if (parse.GetValue(Inputs) is { Length: > 0 } i) c = c with { I1 = i[0], I2 = i[1] };
        if (parse.GetValue(Targets) is { Length: > 0 } t) c = c with { T1 = t[0], T2 = t[1] };
        if (parse.GetValue(Weights) is { Length: > 0 } w) c = c with { Weights = Era.Backprop.Weights.FromArray(w) };
        if (parse.GetValue(Biases) is { Length: > 0 } b) c = c with { B1 = b[0], B2 = b[1] };
        if (parse.GetValue(LearningRate) is double eta) c = c with { LearningRate = eta };
        return c;
    }

    public int IterationCount(ParseResult parse) => parse.GetValue(Iterations);

    /// <summary>--lrs "0.1,0.2,...": every rate &gt; 0.</summary>
    public static Option<double[]?> LearningRatesOption(string description) =>
        TypedOptions.Numbers("--lrs", description, positive: true, each: "learning rate");

    /// <summary>The rates of --lrs; the course's six when absent.</summary>
    public static IReadOnlyList<double> LearningRates(ParseResult parse, Option<double[]?> lrs) =>
        parse.GetValue(lrs) is { Length: > 0 } rates ? rates : LearningRateSweep.DefaultRates; // absent: an empty array
}
