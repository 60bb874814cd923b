using System.Globalization;
using Era.Tests.Data;

namespace Era.Tests.Engine;

/// <summary>`era evaluate` gives the accuracy `era train` reported for the same checkpoint; `era summary` prints each model's table.</summary>
[Collection(EngineCollection.Name)] // torch.manual_seed and the thread count are global
public sealed class EvaluateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-evaluate-").FullName;

    public EvaluateCommandTests()
    {
        IdxFiles.WriteMnist(Data, "train", 40, gzip: true);
        IdxFiles.WriteMnist(Data, "t10k", 23, gzip: false);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Data => Path.Combine(_dir, "mnist");
    private string Weights => Path.Combine(_dir, "net.safetensors");

    private static (int Code, string Out, string Err) Run(params string[] args) => Era.Tests.Cli.CliRunner.Run(args);

    [Fact]
    public void EvaluateReportsWhatTrainingMeasuredForTheSameWeights()
    {
        var train = Run("train", "--model", "tiny", "--epochs", "1", "--batch-size", "16", "--data", Data, "--threads", "1", "--out", Weights);
        Assert.True(train.Code == 0, train.Err);
        string final = train.Out.Split('\n').Single(l => l.StartsWith("final_test_acc ", StringComparison.Ordinal)).Split(' ')[1];

        var (code, output, error) = Run("evaluate", "--weights", Weights, "--data", Data, "--threads", "2");   // model from the file
        Assert.True(code == 0, error);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal($"test_acc {final}", lines[^1]);
        Assert.Contains("model tiny", error);
        // The confusion matrix: 10 rows after its header and column line, summing to the 23 test images.
        int header = Array.IndexOf(lines, "confusion matrix (row: label, column: prediction)");
        var rows = lines.Skip(header + 2).Take(10).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray()).ToArray();
        Assert.Equal(Enumerable.Range(0, 10), rows.Select(r => r[0]));
        Assert.Equal(23, rows.Sum(r => r.Skip(1).Sum()));
        int correct = Enumerable.Range(0, 10).Sum(k => rows[k][k + 1]);
        Assert.Equal(double.Parse(final, CultureInfo.InvariantCulture), Math.Round(100.0 * correct / 23, 2));
        Assert.Contains($"misclassified {23 - correct} ", output);
    }

    [Fact]
    public void AModelThatDoesNotFitTheFileIsRefusedAndAMissingFileIsAUsageError()
    {
        Assert.Equal(0, Run("train", "--model", "tiny", "--epochs", "1", "--data", Data, "--threads", "1", "--out", Weights).Code);
        var (code, output, error) = Run("evaluate", "--weights", Weights, "--model", "course", "--data", Data);
        Assert.Equal(1, code);
        Assert.Contains("does not match the model", error);
        Assert.DoesNotContain("test_acc", output);
        var missing = Run("evaluate", "--weights", Path.Combine(_dir, "none.safetensors"), "--data", Data);
        Assert.Equal(2, missing.Code);
        Assert.StartsWith("era: --weights: ", missing.Err);
    }

    [Theory]
    [InlineData("course", "14,656", "f.8.0 ", "[-1, 20, 5, 5]")]
    [InlineData("tiny", "7,546", "f.7.0 ", "[-1, 16, 6, 6]")]
    [InlineData("reference", "12,098", "f.8.0 ", "[-1, 16, 5, 5]")]
    public void SummaryPrintsTheModelsTable(string model, string parameters, string lastConv, string shape)
    {
        var (code, output, _) = Run("summary", "--model", model);
        Assert.Equal(0, code);
        Assert.Contains($"Total params: {parameters}", output);
        Assert.Contains(shape, output.Split('\n').Single(l => l.StartsWith(lastConv, StringComparison.Ordinal)));
        Assert.Equal(2, Run("summary", "--model", "resnet").Code);
    }
}
