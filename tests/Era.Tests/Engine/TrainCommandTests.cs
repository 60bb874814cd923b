using System.Globalization;
using System.Text.Json;
using Era.Engine.Checkpoints;
using Era.Engine.Models;
using Era.Tests.Data;

namespace Era.Tests.Engine;

/// <summary>`era train` in-process on tiny MNIST-format files: epoch lines, a checkpoint that loads back, a JSON history;
/// bad options exit 2 naming the option; a failed run writes nothing.</summary>
[Collection(EngineCollection.Name)] // torch.manual_seed and the thread count are global
public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-train-").FullName;

    public TrainCommandTests()
    {
        IdxFiles.WriteMnist(Path.Combine(_dir, "mnist"), "train", 48, gzip: true);
        IdxFiles.WriteMnist(Path.Combine(_dir, "mnist"), "t10k", 12, gzip: false);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Data => Path.Combine(_dir, "mnist");
    private string Weights => Path.Combine(_dir, "net.safetensors");
    private string History => Path.Combine(_dir, "history.json");

    private static (int Code, string Out, string Err) Run(params string[] args) => Era.Tests.Cli.CliRunner.Run(["train", .. args]);

    /// <summary>The numbers of an epoch line: epoch 7/15 lr … train loss … acc …% test loss … acc …% 23.1s.</summary>
    private static (int Epoch, int Epochs, double Lr, double TrainLoss, double TrainAcc, double TestLoss, double TestAcc, double Seconds) Epoch(string line)
    {
        var m = System.Text.RegularExpressions.Regex.Match(line,
            @"^epoch (\d+)/(\d+) lr (\S+) train loss (\S+) acc (\S+)% test loss (\S+) acc (\S+)% (\S+)s$");
        Assert.True(m.Success, line);
        double D(int g) => double.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        return ((int)D(1), (int)D(2), D(3), D(4), D(5), D(6), D(7), D(8));
    }

    [Fact]
    public void TwoEpochsPrintTwoLinesAndSaveWeightsAndHistory()
    {
        var (code, output, error) = Run("--epochs", "2", "--data", Data, "--batch-size", "20", "--threads", "1",
            "--out", Weights, "--json", History);
        Assert.True(code == 0, error);
        var lines = output.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(5, lines.Length);
        var epochs = lines.Take(2).Select(Epoch).ToArray();
        for (int e = 1; e <= 2; e++)
        {
            var x = epochs[e - 1];
            Assert.Equal((e, 2), (x.Epoch, x.Epochs));
            Assert.True(x.Lr > 0 && x.TrainLoss >= 0 && x.TestLoss >= 0 && x.Seconds >= 0, lines[e - 1]);
            Assert.InRange(x.TrainAcc, 0, 100);
            Assert.InRange(x.TestAcc, 0, 100);
        }
        Assert.StartsWith("best_test_acc ", lines[2]);
        Assert.Equal(Math.Max(epochs[0].TestAcc, epochs[1].TestAcc), double.Parse(lines[2].Split(' ')[1], CultureInfo.InvariantCulture));
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"final_test_acc {epochs[1].TestAcc:F2}"), lines[3]);
        Assert.Equal("parameters 14656", lines[4]);   // the course model by default
        // 48 images in batches of 20: 3 batches per epoch, the last one short (8), as the anchor keeps it.
        Assert.Contains("2 epochs x 3 batches of 20", error);
        Assert.Contains("augmentation ±7° ±2 px", error);
        Assert.Contains("epoch 2/2 batch 3/3 ", error);

        // The checkpoint is the trained model: loaded into a fresh net it changes the weights to the saved ones.
        var net = ModelZoo.Create("course");
        float before = net.fc.weight.Value.Data[0];
        Safetensors.Load(net, Weights);
        var saved = Safetensors.Read(Weights);
        Assert.Equal(saved["fc.weight"].ToArray<float>(), net.fc.weight.Value.Data);
        Assert.NotEqual(before, net.fc.weight.Value.Data[0]);
        Assert.Equal(6, saved["f.0.1.num_batches_tracked"].ToArray<double>()[0]); // 2 epochs x 3 training batches

        using var json = JsonDocument.Parse(File.ReadAllText(History));
        var history = json.RootElement.GetProperty("history");
        Assert.Equal(2, history.GetArrayLength());
        for (int e = 0; e < 2; e++)
        {
            Assert.Equal(e + 1, history[e].GetProperty("epoch").GetInt32());
            Assert.Equal(epochs[e].TestAcc, Math.Round(history[e].GetProperty("test_acc").GetDouble(), 2));
            Assert.Equal(epochs[e].TrainLoss, Math.Round(history[e].GetProperty("train_loss").GetDouble(), 4));
        }
        Assert.Equal(14656, json.RootElement.GetProperty("parameters").GetInt64());
        Assert.Equal(0.1, json.RootElement.GetProperty("max_lr").GetDouble());
        // The last evaluation: a confusion matrix over the 12 test images and the mistakes among them.
        var confusion = json.RootElement.GetProperty("confusion_matrix");
        Assert.Equal(12, confusion.EnumerateArray().Sum(row => row.EnumerateArray().Sum(v => v.GetInt32())));
        int wrong = json.RootElement.GetProperty("misclassified").GetArrayLength();
        Assert.Equal(epochs[1].TestAcc, Math.Round(100.0 * (12 - wrong) / 12, 2));
    }

    [Fact]
    public void ModelAndLimitsSelectWhatIsTrained()
    {
        var (code, output, error) = Run("--model", "reference", "--epochs", "1", "--data", Data, "--threads", "1",
            "--limit-train", "30", "--limit-test", "5", "--no-augment", "--dropout", "0");
        Assert.True(code == 0, error);
        Assert.Contains("train: 30 training and 5 test images", error);
        Assert.Contains("model reference without dropout, augmentation, 12098 parameters", error);
        Assert.Contains("dropout 0, no augmentation", error);
        Assert.EndsWith("parameters 12098", output.TrimEnd());
    }

    [Fact]
    public void WithoutTakesPartsOutAndTheCheckpointLoadsAsTheSameVariant()
    {
        var (code, output, error) = Run("--epochs", "1", "--data", Data, "--threads", "1", "--without", "bn", "--without", "schedule",
            "--out", Weights, "--json", History);
        Assert.True(code == 0, error);
        Assert.Contains("model course without bn, schedule, 14542 parameters", error);
        Assert.Contains("constant lr 0.05", error);
        using var json = JsonDocument.Parse(File.ReadAllText(History));
        Assert.Equal("constant", json.RootElement.GetProperty("schedule").GetString());
        Assert.Equal(["bn", "schedule"], json.RootElement.GetProperty("without").EnumerateArray().Select(e => e.GetString()!));
        foreach (var e in json.RootElement.GetProperty("history").EnumerateArray()) Assert.Equal(0.05, e.GetProperty("lr").GetDouble(), 9);
        var net = ModelZoo.Load(Weights);                                // the metadata says "without": bn
        Assert.Equal(14542, net.parameters().Sum(p => p.Numel));
    }

    [Fact]
    public void TheSameSeedGivesTheSameRun()
    {
        string[] args = ["--epochs", "1", "--data", Data, "--batch-size", "16", "--threads", "1", "--seed", "7"];
        static string Numbers(string output) => string.Join("\n", output.Split('\n').Select(l => l.StartsWith("epoch ", StringComparison.Ordinal) ? l[..l.LastIndexOf(' ')] : l));
        var first = Run(args);
        var second = Run(args);
        Assert.Equal(0, first.Code);
        Assert.Equal(Numbers(first.Out), Numbers(second.Out));
    }

    [Theory]
    [InlineData("--model", "resnet", "unknown model 'resnet'")]
    [InlineData("--epochs", "0", "must be between 1 and 1000")]
    [InlineData("--batch-size", "0", "must be between 1 and 60000")]
    [InlineData("--lr", "0.1", "unknown option")]   // OneCycleLR sets the rate: --max-lr is the one that matters
    [InlineData("--dropout", "1", "must be in [0, 1)")]
    [InlineData("--limit-train", "0", "must be at least 1")]
    [InlineData("--max-lr", "0", "must be a positive number")]
    [InlineData("--momentum", "1", "must be in [0, 1)")]
    [InlineData("--weight-decay", "-1", "must be 0 or more")]
    [InlineData("--threads", "0", "must be between 1 and 1024")]
    [InlineData("--data", "/nonexistent/mnist", "does not exist")]
    [InlineData("--out", "{data}/t10k-images-idx3-ubyte/net.safetensors", "is a file, not a folder")]   // a missing folder is created, a file in the way is not
    [InlineData("--json", "{data}/t10k-labels-idx1-ubyte/h.json", "is a file, not a folder")]
    [InlineData("--out", "/proc/net.safetensors", "cannot write in '/proc'")]
    [InlineData("--epochs", "many", "many")]
    [InlineData("--without", "attention", "unknown part 'attention' (available: bn, dropout, gap, augmentation, schedule)")]
    public void BadOptionsExitWithCode2NamingTheOption(string option, string value, string message)
    {
        // Valid data and outputs besides the bad option: the run would write them if the check were missing.
        var args = new Dictionary<string, string> { ["--data"] = Data, ["--out"] = Weights, ["--json"] = History, ["--epochs"] = "1" };
        args[option] = value.Replace("{data}", Data, StringComparison.Ordinal);
        var (code, output, error) = Run([.. args.SelectMany(a => new[] { a.Key, a.Value })]);
        Assert.Equal(2, code);
        Assert.Contains(option, error);
        Assert.Contains(message, error);
        Assert.Equal("", output);
        Assert.False(File.Exists(Weights));
        Assert.False(File.Exists(History));
    }

    [Fact]
    public void OutputPathThatIsADirectoryIsAUsageError()
    {
        var (code, _, error) = Run("--data", Data, "--out", _dir);
        Assert.Equal(2, code);
        Assert.StartsWith("era: --out: ", error);
    }

    [Fact]
    public void DirectoryWithoutMnistExitsWithCode2AndWritesNothing()
    {
        var (code, _, error) = Run("--data", _dir, "--out", Weights, "--json", History);
        Assert.Equal(2, code);
        Assert.Contains("era: --data: MNIST: the given data directory", error);
        Assert.False(File.Exists(Weights));
        Assert.False(File.Exists(History));
    }

    [Theory]
    [InlineData("1e30")]   // NaN
    [InlineData("1e3")]    // finite, but exploding: it reached 3.2e16 without a word before
    public void DivergenceIsOneLineWithStepAndLearningRateExit1AndNothingWritten(string maxLr)
    {
        var (code, output, error) = Run("--epochs", "2", "--data", Data, "--batch-size", "16", "--threads", "1",
            "--max-lr", maxLr, "--out", Weights, "--json", History);
        Assert.Contains("(nothing was saved)", error);
        Assert.Equal(1, code);
        var line = Assert.Single(error.Split('\n'), l => l.StartsWith("era: ", StringComparison.Ordinal));
        Assert.Matches(@"^era: train: training diverged at step \d+: .*learning rate [0-9.eE+-]+\)", line);
        Assert.DoesNotContain("best_test_acc", output);
        Assert.False(File.Exists(Weights));
        Assert.False(File.Exists(History));
    }
}
