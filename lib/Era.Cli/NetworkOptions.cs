using System.CommandLine;
using Era.Backprop;

namespace Era.Cli;

/// <summary>
/// The options that describe a 2-2-2 network run, shared by `backprop`, `excel` and `plot lr`:
/// --preset, --inputs, --targets, --weights, --biases, --lr, --iterations.
/// </summary>
public sealed class NetworkOptions
{
    public Option<string> Preset { get; } = new("--preset") { Description = "classic (t1=0.01, t2=0.99) or era (t1=t2=0.5)", DefaultValueFactory = _ => "classic" };
    public Option<string?> Inputs { get; } = new("--inputs") { Description = "i1,i2" };
    public Option<string?> Targets { get; } = new("--targets") { Description = "t1,t2" };
    public Option<string?> Weights { get; } = new("--weights") { Description = "w1,w2,w3,w4,w5,w6,w7,w8" };
    public Option<string?> Biases { get; } = new("--biases") { Description = "b1,b2: fixed biases added to h1,h2 and o1,o2 (not trained)" };
    public Option<string?> LearningRate { get; } = new("--lr") { Description = "learning rate η > 0" };
    public Option<string?> Iterations { get; } = new("--iterations") { Description = "rows in the table (default 181)" };

    /// <param name="withLearningRate">false for verbs that take a list of rates instead (--lrs).</param>
    public void AddTo(Command command, bool withLearningRate = true)
    {
        command.Options.Add(Preset);
        command.Options.Add(Inputs);
        command.Options.Add(Targets);
        command.Options.Add(Weights);
        command.Options.Add(Biases);
        if (withLearningRate) command.Options.Add(LearningRate);
        command.Options.Add(Iterations);
    }

    public NetworkConfig Config(ParseResult parse)
    {
        NetworkConfig c;
        try { c = NetworkConfig.Preset(parse.GetValue(Preset) ?? "classic"); }
        catch (ArgumentException e) { throw new UsageException("--preset", e.Message); }
        if (parse.GetValue(Inputs) is string i) { var v = Cli.ParseDoubles("--inputs", i, 2); c = c with { I1 = v[0], I2 = v[1] }; }
        if (parse.GetValue(Targets) is string t) { var v = Cli.ParseDoubles("--targets", t, 2); c = c with { T1 = v[0], T2 = v[1] }; }
        if (parse.GetValue(Weights) is string w) c = c with { Weights = Era.Backprop.Weights.FromArray(Cli.ParseDoubles("--weights", w, 8)) };
        if (parse.GetValue(Biases) is string b) { var v = Cli.ParseDoubles("--biases", b, 2); c = c with { B1 = v[0], B2 = v[1] }; }
        if (parse.GetValue(LearningRate) is string lr)
        {
            double eta = Cli.ParseDouble("--lr", lr);
            if (eta <= 0) throw new UsageException("--lr", $"learning rate must be > 0, got {Cli.Format(eta)}");
            c = c with { LearningRate = eta };
        }
        return c;
    }

    public int IterationCount(ParseResult parse)
    {
        if (parse.GetValue(Iterations) is not string text) return IterationTable.DefaultIterations;
        if (!int.TryParse(text.Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n))
            throw new UsageException("--iterations", $"'{text.Trim()}' is not a whole number");
        if (n < 1) throw new UsageException("--iterations", $"must be ≥ 1, got {n}");
        if (n > 1_000_000) throw new UsageException("--iterations", $"must be ≤ 1000000, got {n}");
        return n;
    }

    /// <summary>Parses --lrs "0.1,0.2,..." (every rate > 0); the course's six rates when absent.</summary>
    public static IReadOnlyList<double> LearningRates(ParseResult parse, Option<string?> lrs)
    {
        if (parse.GetValue(lrs) is not string text) return LearningRateSweep.DefaultRates;
        var rates = Cli.ParseDoubles("--lrs", text);
        foreach (var r in rates)
            if (r <= 0) throw new UsageException("--lrs", $"every learning rate must be > 0, got {Cli.Format(r)}");
        return rates;
    }
}
