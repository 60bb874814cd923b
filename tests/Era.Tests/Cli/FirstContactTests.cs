namespace Era.Tests.Cli;

/// <summary>What a new user meets first: `./era` alone, a misspelt verb or option, a value of the wrong kind.</summary>
public class FirstContactTests
{
    private static readonly string[] Verbs = ["setup", "backprop", "derive", "excel", "check-sheet", "plot", "handouts", "bench", "train", "evaluate", "summary", "notebooks"];

    [Fact]
    public void EraAloneListsTheVerbs()
    {
        var (code, stdout, stderr) = CliRunner.Run();
        Assert.Equal((0, ""), (code, stderr));
        foreach (var verb in Verbs) Assert.Contains($"  {verb}", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void VersionAndHelpStillWork()
    {
        var (code, stdout, stderr) = CliRunner.Run("--version");
        Assert.Equal((0, ""), (code, stderr));
        Assert.Matches(@"^\d+\.\d+", stdout);
        (code, stdout, stderr) = CliRunner.Run("--help");
        Assert.Equal((0, ""), (code, stderr));
        Assert.Contains("  backprop", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void PlotAloneListsItsFigures()
    {
        var (code, stdout, stderr) = CliRunner.Run("plot");
        Assert.Equal((0, ""), (code, stderr));
        Assert.Contains("  lr", stdout, StringComparison.Ordinal);
        Assert.Contains("  network", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("backprp", "backprop")]
    [InlineData("exel", "excel")]
    [InlineData("chek-sheet", "check-sheet")]
    [InlineData("trian", "train")]
    public void AMisspeltVerbGetsTheNearestOneAndTheList(string typed, string meant)
    {
        var (code, stdout, stderr) = CliRunner.Run(typed);
        Assert.Equal((2, ""), (code, stdout));
        Assert.Equal($"era: unknown verb '{typed}'; did you mean '{meant}'? (verbs: {string.Join(", ", Verbs)})\n", stderr);
    }

    [Fact]
    public void AWordFarFromEveryVerbGetsOnlyTheList()
    {
        var (code, _, stderr) = CliRunner.Run("photosynthesis");
        Assert.Equal(2, code);
        Assert.DoesNotContain("did you mean", stderr, StringComparison.Ordinal);
        Assert.Contains("(verbs: setup, backprop", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AMisspeltOptionGetsTheNearestOne()
    {
        var (code, _, stderr) = CliRunner.Run("backprop", "--iteration", "5");
        Assert.Equal(2, code);
        Assert.StartsWith("era: unknown option '--iteration' for `era backprop`; did you mean '--iterations'?", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("--iterations: 'many' is not a whole number", "backprop", "--iterations", "many")]
    [InlineData("--iterations: must be ≤ 1000000, got 2000000", "backprop", "--iterations", "2000000")]
    [InlineData("--lr: 'fast' is not a finite number", "excel", "--lr", "fast")]
    [InlineData("--weight: unknown value 'w9' (expected one of: w1, w2, w3, w4, w5, w6, w7, w8, all)", "derive", "--weight", "w9")]
    [InlineData("--epochs: 'ten' is not a whole number", "train", "--epochs", "ten")]   // System.CommandLine's own int, reworded
    [InlineData("--batches: '1.5' is not a whole number", "bench", "--batches", "1.5")]
    public void ErrorsNameTheOptionAndItsLimitInPlainWords(string message, params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal((2, ""), (code, stdout));
        Assert.Equal($"era: {message}\n", stderr);
        Assert.DoesNotContain("System.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void NearestIsByEditDistance()
    {
        Assert.Equal(0, Era.Cli.Cli.Distance("plot", "plot"));
        Assert.Equal(1, Era.Cli.Cli.Distance("backprp", "backprop"));
        Assert.Equal(2, Era.Cli.Cli.Distance("trian", "train"));
        Assert.Equal(3, Era.Cli.Cli.Distance("kitten", "sitting"));
    }

    [Fact]
    public void TheFirstBuildSaysSo()
    {
        // ./era prints this before the minute-long first build; checked in the script itself, which tests cannot rebuild.
        string script = File.ReadAllText(Path.Combine(Era.Tests.Engine.PyTorchRunner.RepoRoot, "era"));
        Assert.Contains("building era (first run", script, StringComparison.Ordinal);
        Assert.Contains(">&2", script, StringComparison.Ordinal);
    }
}
