using System.IO.Compression;
using System.Text.Json;
using Era.Cli;
using Era.Cli.Commands;
using Era.Engine.Checkpoints;
using Era.Engine.Models;
using Era.Engine.Training;
using Era.Tests.Data;
using Era.Tests.Engine;

namespace Era.Tests.Cli;

/// <summary>Lines that used to mislead (issue 20's "Confusing" list): each now says what is wrong and what to do.</summary>
[Collection(EngineCollection.Name)]   // one test sets MNIST_DIR, which train reads
public sealed class ConfusingMessagesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-confusing-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AnOpenDocumentSpreadsheetIsNamedWithHowToSaveItAsXlsx()
    {
        // What LibreOffice writes for .ods: the "mimetype" entry first, then the manifest and the content.
        string path = Path.Combine(_dir, "sheet.ods");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, text) in new[] { ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"), ("META-INF/manifest.xml", "<manifest/>"), ("content.xml", "<content/>") })
            {
                using var w = new StreamWriter(zip.CreateEntry(name).Open());
                w.Write(text);
            }
        }
        var (code, output, error) = CliRunner.Run("check-sheet", path);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal($"era: {path}: this is an OpenDocument file (.ods, LibreOffice's own format), not an Excel workbook: "
            + "open it in LibreOffice Calc and save it with File → Save As… → \"Excel 2007-365 (.xlsx)\"", error.Trim());
    }

    [Theory]
    [InlineData("excel", "1 to 10000")]
    [InlineData("plot lr", "1 to 100000")]
    [InlineData("backprop", "1 to 1000000")]
    public void IterationsHelpStatesTheVerbsOwnLimit(string verb, string range)
    {
        var (code, output, _) = CliRunner.Run([.. verb.Split(' '), "--help"]);
        Assert.Equal(0, code);
        string line = Assert.Single(output.Split('\n'), l => l.TrimStart().StartsWith("--iterations", StringComparison.Ordinal));
        Assert.Contains($"rows in the table, {range} (default", line);
    }

    [Fact]
    public void AnMnistDirWithoutTheFilesIsBlamedOnMnistDirNotOnData()
    {
        string? before = Environment.GetEnvironmentVariable("MNIST_DIR");
        Environment.SetEnvironmentVariable("MNIST_DIR", Path.Combine(_dir, "no-mnist"));
        try
        {
            var (code, _, error) = CliRunner.Run("train", "--epochs", "1");
            Assert.Equal(2, code);
            Assert.StartsWith($"era: MNIST_DIR: MNIST: MNIST_DIR {Path.Combine(_dir, "no-mnist")} lacks train-images-idx3-ubyte.gz", error);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MNIST_DIR", before);
        }
    }

    private string TestOnlyData()
    {
        string dir = Path.Combine(_dir, "t10k-only");
        IdxFiles.WriteMnist(dir, "t10k", 12, gzip: false);
        return dir;
    }

    private string Checkpoint(string model)
    {
        string path = Path.Combine(_dir, $"{model}.safetensors");
        Safetensors.Save(ModelZoo.Create("tiny", seed: 3), path, new Dictionary<string, string> { ["model"] = model });
        return path;
    }

    [Fact]
    public void ACheckpointNamingAModelThisProgramLacksSaysSoInOneLine()
    {
        var (code, output, error) = CliRunner.Run("evaluate", "--weights", Checkpoint("bogus"), "--data", TestOnlyData(), "--threads", "1");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("era: evaluate: ", line);
        Assert.Contains($"names model 'bogus', which this program does not have (available: {string.Join(", ", ModelZoo.Names)})", line);
    }

    [Fact]
    public void EvaluateNeedsOnlyTheTestFiles()
    {
        var (code, output, error) = CliRunner.Run("evaluate", "--weights", Checkpoint("tiny"), "--data", TestOnlyData(), "--threads", "1");
        Assert.True(code == 0, error);
        Assert.StartsWith("test_acc ", output.TrimEnd().Split('\n')[^1]);
        Assert.Contains("on 12 test images", error);
    }

    [Fact]
    public void TrainOutIntoAMissingFolderCreatesItAndSaysSo()
    {
        string data = Path.Combine(_dir, "mnist");
        IdxFiles.WriteMnist(data, "train", 32, gzip: true);
        IdxFiles.WriteMnist(data, "t10k", 8, gzip: false);
        string folder = Path.Combine(_dir, "runs", "tiny");
        string weights = Path.Combine(folder, "w.safetensors");
        var (code, _, error) = CliRunner.Run("train", "--model", "tiny", "--epochs", "1", "--batch-size", "16", "--threads", "1",
            "--data", data, "--out", weights, "--json", Path.Combine(_dir, "runs", "h", "history.json"));
        Assert.True(code == 0, error);
        Assert.Contains($"created folder {folder}", error);
        Assert.True(File.Exists(weights));
        Assert.True(File.Exists(Path.Combine(_dir, "runs", "h", "history.json")));

        // Refused before training (here: --json cannot be written): the missing --out folder is not made.
        string never = Path.Combine(_dir, "never");
        var refused = CliRunner.Run("train", "--model", "tiny", "--epochs", "1", "--data", data,
            "--out", Path.Combine(never, "w.safetensors"), "--json", "/proc/h.json");
        Assert.Equal(2, refused.Code);
        Assert.Contains("--json", refused.Err);
        Assert.False(Directory.Exists(never));
    }

    [Fact]
    public void MoreThreadsThanProcessorsIsSaid()
    {
        string data = Path.Combine(_dir, "mnist");
        IdxFiles.WriteMnist(data, "train", 32, gzip: true);
        IdxFiles.WriteMnist(data, "t10k", 8, gzip: false);
        int threads = Environment.ProcessorCount + 1;
        var (code, _, error) = CliRunner.Run("bench", "--model", "tiny", "--batches", "2", "--batch-size", "8", "--threads", $"{threads}", "--data", data);
        Assert.True(code == 0, error);
        Assert.Contains($"bench: warning: --threads {threads} is more than the {Environment.ProcessorCount} processors here", error);
        Assert.DoesNotContain("warning", CliRunner.Run("bench", "--model", "tiny", "--batches", "2", "--batch-size", "8", "--threads", "1", "--data", data).Err);
    }

    [Fact]
    public void ABatchThatCannotFitInMemoryIsRefusedWithTheLargestThatFits()
    {
        var recipe = Recipe.For("reference");
        long need = (recipe with { BatchSize = 1000 }).StepBytes();
        const long available = 8L << 30;   // an 8 GiB machine
        var e = Assert.Throws<UsageException>(() => EngineOptions.CheckMemory(recipe with { BatchSize = 60000 }, available));
        Assert.Equal("--batch-size", e.Option);
        var fit = System.Text.RegularExpressions.Regex.Match(e.Message, @"at most (\d+) images per batch fit$");
        Assert.True(fit.Success, e.Message);
        int largest = int.Parse(fit.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(largest, 1000 * (available / 4 * 3) / need - 1, 1000 * (available / 4 * 3) / need + 1);   // linear in the batch
        EngineOptions.CheckMemory(recipe with { BatchSize = largest - 1 }, available);
        Assert.Throws<UsageException>(() => EngineOptions.CheckMemory(recipe with { BatchSize = largest + 2 }, available));
        EngineOptions.CheckMemory(recipe, available);   // the recipe's 128
    }

    [Fact]
    public void MeasuringAStepsMemoryLeavesTheSeededGeneratorAsItWas()
    {
        Era.Engine.torch.manual_seed(42);
        float expected = ModelZoo.Create("tiny").state_dict()[0].Tensor.Data[0];
        Era.Engine.torch.manual_seed(42);
        Assert.True(Recipe.For("tiny").StepBytes() > 0);
        Assert.Equal(expected, ModelZoo.Create("tiny").state_dict()[0].Tensor.Data[0]);   // the same first weight
    }

    /// <summary>
    /// Where 60,000 images might fit (3/4 of the memory above 40 GB; the estimate is ~47 GB), bench would train them:
    /// skipped there. No model is built here: attributes are read outside the test collection.
    /// </summary>
    private sealed class WhereTheLargestBatchDoesNotFitFactAttribute : FactAttribute
    {
        public WhereTheLargestBatchDoesNotFitFactAttribute()
        {
            if (GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4 * 3 > 40_000_000_000)
                Skip = "this machine may have room for a batch of 60,000 images: the refusal was not run";
        }
    }

    [WhereTheLargestBatchDoesNotFitFact]
    public void BenchAtTheLargestBatchIsRefusedBeforeLoadingAnything()
    {
        var (code, output, error) = CliRunner.Run("bench", "--batch-size", "60000", "--batches", "1");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Matches(@"^era: --batch-size: a step of 60000 images needs about \d+\.\d GB for its activations \(torchsummary's estimate\), more than 3/4 of the \d+\.\d GB this process may use; at most \d+ images per batch fit$", error.Trim());
    }

    [Fact]
    public void ALearningRateThatOverflowsTheTableStopsItWithOneLine()
    {
        var (code, output, error) = CliRunner.Run("backprop", "--lr", "1e308", "--inputs", "1000,1000",
            "--weights", "0.001,0.001,0.001,0.001,0.4,0.45,0.5,0.55", "--format", "json");
        Assert.Equal(1, code);
        using var json = JsonDocument.Parse(output);   // still valid JSON: the rows before the overflow, and says so
        Assert.Equal(1, json.RootElement.GetProperty("rows").GetArrayLength());
        Assert.Equal(1, json.RootElement.GetProperty("config").GetProperty("iterations").GetInt32());
        Assert.Equal("era: backprop: at iteration 2 w1 is -Infinity: the numbers overflowed (η = 1E+308); the table stops at iteration 1", error.Trim());
        var first = CliRunner.Run("backprop", "--inputs", "1e300,1e300", "--weights", "1e10,1e10,1e10,1e10,1,1,1,1", "--format", "csv");
        Assert.Equal(1, first.Code);   // overflowed in the first row: no table at all
        Assert.Equal("", first.Out);
        Assert.EndsWith("the numbers overflowed (η = 0.5); no table", first.Err.Trim());
        Assert.Equal(0, CliRunner.Run("backprop", "--lr", "1e308", "--format", "csv").Code);   // huge but finite: every row
    }
}
