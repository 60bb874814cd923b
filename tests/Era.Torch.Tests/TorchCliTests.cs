using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Era.Data;
using Era.Engine.Checkpoints;
using Era.Engine.Models;
using Era.Engine.Training;

namespace Era.Torch.Tests;

/// <summary>`--engine torchsharp` of train, bench and evaluate through the real CLI root, on small MNIST-shaped files: the same commands, options, lines and JSON as the era engine.</summary>
[Collection(TorchCollection.Name)]
public sealed partial class TorchCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-torch-cli-").FullName;

    public TorchCliTests()
    {
        TorchNative.EnsureLoaded();
        Fixtures.WriteMnist(_dir, "train", 64, seed: 1);
        Fixtures.WriteMnist(_dir, "t10k", 50, seed: 2);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Cli.Cli.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) => text.TrimEnd().Split('\n');

    /// <summary>A line with every number replaced by #: what stays is the line's shape.</summary>
    private static string Shape(string line) => Number().Replace(line, "#");

    [GeneratedRegex(@"-?[0-9]+(\.[0-9]+)?(E[-+]?[0-9]+)?")]
    private static partial Regex Number();

    private string TinyCheckpoint()
    {
        Era.Engine.torch.manual_seed(4);
        var engine = new MnistNet<float>(Architecture.Tiny);
        Fixtures.Perturb(engine, 6);
        string weights = Path.Combine(_dir, "tiny.safetensors");
        Safetensors.Save(engine, weights, new Dictionary<string, string> { ["model"] = "tiny" });
        return weights;
    }

    [Fact]
    public void EvaluatePrintsTheEnginesAccuracyLastAndHonoursLimitTestAndJson()
    {
        string weights = TinyCheckpoint();
        var test = Mnist.LoadSplit(_dir, train: false).Take(30);
        double expected = Trainer.Evaluate(ModelZoo.Load(weights), new DataLoader(test, 1000)).Accuracy;
        string json = Path.Combine(_dir, "eval.json");

        var (code, output, error) = Run("evaluate", "--engine", "torchsharp", "--device", "cpu", "--weights", weights, "--data", _dir,
            "--threads", "1", "--limit-test", "30", "--json", json);
        Assert.True(code == 0, error);
        Assert.Equal($"test_acc {(100 * expected).ToString("F2", CultureInfo.InvariantCulture)}", Lines(output)[^1]);
        Assert.True(expected > 0 && expected < 1, $"accuracy {expected}: the check needs a model that is neither always right nor always wrong");
        Assert.Contains("on 30 test images", error);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(30, doc.RootElement.GetProperty("test_images").GetInt32());
        Assert.Equal("torchsharp (libtorch) on cpu", doc.RootElement.GetProperty("engine").GetString());

        // The era engine prints the same lines for the same checkpoint.
        var era = Run("evaluate", "--weights", weights, "--data", _dir, "--threads", "1", "--limit-test", "30");
        Assert.Equal(0, era.Code);
        Assert.Equal(Lines(era.Out).Select(Shape), Lines(output).Select(Shape));
        Assert.Equal(Lines(era.Out)[^1], Lines(output)[^1]);
    }

    [Fact]
    public void EvaluateWithZeroThreadsIsAOneLineUsageError()
    {
        // Once libtorch aborted the process (c10::Error, exit 134) on set_num_threads(0).
        var (code, output, error) = Run("evaluate", "--engine", "torchsharp", "--threads", "0", "--weights", TinyCheckpoint(), "--data", _dir);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(Lines(error));
        Assert.Contains("--threads: must be between 1 and 1024, got 0", error);
    }

    [Fact]
    public void EvaluateRefusesAMissingFileAndAWrongModelWithOneLine()
    {
        var missing = Run("evaluate", "--engine", "torchsharp", "--weights", Path.Combine(_dir, "absent.safetensors"), "--data", _dir);
        Assert.Equal(2, missing.Code);
        Assert.Contains("--weights", missing.Err);
        Assert.Contains("does not exist", missing.Err);

        string weights = Path.Combine(_dir, "reference.safetensors");
        Safetensors.Save(new MnistNet<float>(Architecture.Reference), weights);
        var (code, _, error) = Run("evaluate", "--engine", "torchsharp", "--model", "tiny", "--weights", weights, "--data", _dir, "--threads", "1");
        Assert.Equal(1, code);
        Assert.Single(Lines(error), l => l.StartsWith("era: evaluate: ", StringComparison.Ordinal));
        Assert.Contains("does not match the model", error);
        Assert.Contains("shape mismatch for f.1.0.weight", error);

        Assert.Equal(2, Run("evaluate", "--engine", "torchsharp", "--model", "resnet", "--weights", weights).Code);
    }

    [Fact]
    public void BenchWithTorchSharpPrintsTheMetricsLast()
    {
        var (code, output, error) = Run("bench", "--engine", "torchsharp", "--device", "cpu", "--model", "tiny", "--batches", "4", "--batch-size", "16", "--threads", "1", "--data", _dir);
        Assert.True(code == 0, error);
        var lines = Lines(output);
        Assert.Equal(["train_ms_per_batch", "images_per_second", "gflops", "peak_rss_mb"], lines[^4..].Select(l => l.Split(' ')[0]));
        Assert.All(lines[^4..], l => Assert.True(double.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture) > 0, l));
        Assert.Contains("7546 parameters", output);
        Assert.Contains("engine torchsharp (libtorch) on cpu", output);
        Assert.Contains("timed 1 batches", output);
    }

    [Fact]
    public void TrainWithTorchSharpPrintsTheEnginesLinesAndSavesWeightsTheEngineLoads()
    {
        string weights = Path.Combine(_dir, "out.safetensors"), json = Path.Combine(_dir, "out.json");
        string[] args = ["train", "--model", "tiny", "--epochs", "2", "--batch-size", "16", "--threads", "1", "--data", _dir, "--limit-test", "20", "--without", "schedule"];
        var (code, output, error) = Run([.. args, "--engine", "torchsharp", "--out", weights, "--json", json]);
        Assert.True(code == 0, error);
        var lines = Lines(output);
        Assert.StartsWith("epoch 1/2 lr 0.05 train loss ", lines[0]);   // --without schedule: the constant rate
        Assert.StartsWith("epoch 2/2 lr 0.05 train loss ", lines[1]);
        Assert.StartsWith("best_test_acc ", lines[^3]);
        Assert.Equal("parameters 7546", lines[^1]);
        Assert.Contains("epoch 2/2 batch 4/4", error); // 64 images in batches of 16
        var engine = ModelZoo.Load(weights);
        Assert.Equal("tiny", engine.Name);
        Assert.Equal(8, engine.state_dict().Single(s => s.Name == "f.0.1.num_batches_tracked").Tensor.Data[0]);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal("torchsharp (libtorch) on cpu", doc.RootElement.GetProperty("engine").GetString());
        Assert.Equal(20, doc.RootElement.GetProperty("test_images").GetInt32());
        Assert.Equal(["schedule"], doc.RootElement.GetProperty("without").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(20, doc.RootElement.GetProperty("confusion_matrix").EnumerateArray().Sum(r => r.EnumerateArray().Sum(c => c.GetInt32())));

        // The era engine: the same lines (numbers aside) and the same JSON fields.
        var era = Run([.. args, "--json", json]);
        Assert.Equal(0, era.Code);
        Assert.Equal(Lines(era.Out).Select(Shape), lines.Select(Shape));
        using var eraDoc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(doc.RootElement.EnumerateObject().Select(p => p.Name), eraDoc.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void TrainWithoutBatchNormBuildsTheVariantOnTorchSharpToo()
    {
        string weights = Path.Combine(_dir, "nobn.safetensors");
        var (code, output, error) = Run("train", "--engine", "torchsharp", "--model", "tiny", "--epochs", "1", "--batch-size", "32",
            "--threads", "1", "--data", _dir, "--without", "bn", "--out", weights);
        Assert.True(code == 0, error);
        Assert.Contains("without bn", error);
        long expected = ModelZoo.Create("tiny", batchNorm: false).parameters().Sum(p => (long)p.Numel);
        Assert.Equal($"parameters {expected}", Lines(output)[^1]);
        Assert.Equal(expected, ModelZoo.Load(weights).parameters().Sum(p => (long)p.Numel));   // the metadata names the variant
        var evaluated = Run("evaluate", "--engine", "torchsharp", "--weights", weights, "--data", _dir, "--threads", "1");
        Assert.True(evaluated.Code == 0, evaluated.Err);   // TorchSharp builds the variant the metadata names, too
        Assert.StartsWith("test_acc ", Lines(evaluated.Out)[^1]);
    }

    [Theory]
    [InlineData("--engine", "jax", "jax")]
    [InlineData("--device", "tpu", "tpu")]
    public void BadEngineOrDeviceExitWithCode2(string option, string value, string message)
    {
        var (code, output, error) = Run("bench", option, value, "--batches", "1");
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.Equal("", output);
    }

    [Fact]
    public void DeviceWithoutTorchSharpIsAUsageError()
    {
        var (code, _, error) = Run("bench", "--device", "cpu", "--batches", "1", "--data", _dir);
        Assert.Equal(2, code);
        Assert.Contains("--device: only with --engine torchsharp", error);
    }

    [Fact]
    public void CudaWithoutAGpuIsAUsageError()
    {
        if (TorchSharp.torch.cuda.is_available()) return; // a GPU machine with a CUDA build: nothing to refuse
        var (code, _, error) = Run("bench", "--engine", "torchsharp", "--device", "cuda", "--model", "tiny", "--batches", "1", "--data", _dir);
        Assert.Equal(2, code);
        Assert.Contains("era: --device: device cuda: no CUDA device", error);
    }
}
