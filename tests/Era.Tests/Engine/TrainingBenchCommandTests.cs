using Era.Tests.Data;

namespace Era.Tests.Engine;

/// <summary>`era bench` in-process: bad options exit 2 with one line naming the option; a tiny run prints the metrics last.</summary>
[Collection(EngineCollection.Name)] // seeds the global generator / sets the thread count
public sealed class TrainingBenchCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-bench-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Era.Tests.Cli.CliRunner.Run(["bench", .. args]);

    [Theory]
    [InlineData("--model", "resnet", "unknown model 'resnet'")]
    [InlineData("--batches", "0", "must be at least 1")]
    [InlineData("--batch-size", "-5", "must be between 1 and 60000")]
    [InlineData("--threads", "0", "must be between 1 and 1024")]
    [InlineData("--data", "/nonexistent/mnist", "does not exist")]
    [InlineData("--batches", "many", "many")]
    public void BadOptionsExitWithCode2(string option, string value, string message)
    {
        var (code, output, error) = Run(option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.Equal("", output);
    }

    [Fact]
    public void DirectoryWithoutMnistExitsWithCode2NamingTheMissingFiles()
    {
        var (code, _, error) = Run("--data", _dir, "--batches", "2");
        Assert.Equal(2, code);
        Assert.Contains("era: --data: MNIST: the given data directory", error);
        Assert.Contains("train-images-idx3-ubyte.gz", error);
    }

    [Fact]
    public void TinyRunPrintsTheMetricsLast()
    {
        IdxFiles.WriteMnist(_dir, "train", 64, gzip: true);
        IdxFiles.WriteMnist(_dir, "t10k", 8, gzip: false);
        var (code, output, error) = Run("--data", _dir, "--batches", "5", "--batch-size", "16", "--threads", "1", "--seed", "3");
        Assert.True(code == 0, error);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal(["train_ms_per_batch", "images_per_second", "gflops", "peak_rss_mb"], lines[^4..].Select(l => l.Split(' ')[0]));
        Assert.All(lines[^4..], l => Assert.True(double.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) > 0, l));
        Assert.Contains("12098 parameters", output);
        Assert.Contains("timed 2 batches", output); // 5 batches, 3 of them warm-up

        // Before them, the measured peak per ISA and the step's share of the engine's own (the 256-bit kernels).
        double Value(string key) => double.Parse(lines.Single(l => l.StartsWith(key + " ", StringComparison.Ordinal)).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        string isa = Era.Engine.Kernels.Peak.EngineIsa!;  // avx512 where the kernels run at 512 bits, else avx2
        Assert.Contains(lines, l => l.StartsWith("peak_gflops ", StringComparison.Ordinal) && l.EndsWith($"({isa}, 1 threads)", StringComparison.Ordinal));
        Assert.Equal(Value("peak_gflops"), Value("peak_gflops_" + isa));
        Assert.Equal(Math.Round(Value("gflops") / Value("peak_gflops"), 3), Value("share_of_peak"), 2);
        Assert.Equal(Era.Engine.Kernels.Peak.Isas().Contains("avx512"), lines.Any(l => l.StartsWith("peak_gflops_avx512 ", StringComparison.Ordinal)));
    }

    [Fact]
    public void ProfilePrintsOneRowPerModuleAfterTheMetrics()
    {
        IdxFiles.WriteMnist(_dir, "train", 64, gzip: true);
        IdxFiles.WriteMnist(_dir, "t10k", 8, gzip: false);
        var (code, output, error) = Run("--data", _dir, "--batches", "5", "--batch-size", "16", "--threads", "1", "--profile");
        Assert.True(code == 0, error);
        var rows = output.Split('\n').Where(l => l.StartsWith("profile ", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        string[] top = ["f.0", "f.1", "f.2", "f.3", "f.4", "f.5", "f.6", "f.7", "f.8", "f.9", "flatten", "fc", "log_softmax", "loss", "optimizer", "data", "total"];
        Assert.Equal(top, rows.Select(r => r[1]).Where(n => !n.EndsWith(".conv", StringComparison.Ordinal) && !n.EndsWith(".bn_relu_dropout", StringComparison.Ordinal)));
        Assert.Contains(rows, r => r[1] == "f.2.conv");
        Assert.Contains(rows, r => r[1] == "f.8.bn_relu_dropout");
        Assert.All(rows, r => Assert.Equal(["fwd_ms", "bwd_ms", "ms", "share", "kind"], new[] { r[2], r[4], r[6], r[8], r[10] }));
        Assert.Contains("profile: 2 more steps", output);
        Assert.StartsWith("profile_ms_per_batch ", output.TrimEnd().Split('\n')[^1]);
        Assert.Contains("train_ms_per_batch", output);
    }

    [Fact]
    public void ProfileWithTorchSharpIsAUsageError()
    {
        var (code, output, error) = Run("--engine", "torchsharp", "--profile", "--batches", "2");
        Assert.Equal(2, code);
        Assert.Contains("--profile", error);
        Assert.Equal("", output);
    }
}
