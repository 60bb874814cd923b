using System.Globalization;
using Era.Cli;
using Era.Cli.Commands.Torch;
using Era.Data;
using Era.Engine.Checkpoints;
using Era.Engine.Optim;
using Era.Engine.Training;

namespace Era.Torch.Tests;

/// <summary>`--engine torchsharp` of train and bench through the real CLI root, and TorchCli.Evaluate, on small MNIST-shaped files.</summary>
[Collection(TorchCollection.Name)]
public sealed class TorchCliTests : IDisposable
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

    [Fact]
    public void EvaluatePrintsTheEnginesAccuracyLast()
    {
        Era.Engine.torch.manual_seed(4);
        var engine = EngineTwin.For(Architecture.Tiny);
        Fixtures.Perturb(engine, 6);
        string weights = Path.Combine(_dir, "tiny.safetensors");
        Safetensors.Save(engine, weights);
        var test = Mnist.LoadSplit(_dir, train: false);
        var (_, expected) = new Trainer(engine, new SGD<float>(engine.parameters(), 0.1)).Evaluate(new DataLoader(test, 1000));

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = TorchCli.Evaluate("tiny", weights, _dir, "cpu", 1, stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        string last = Lines(stdout.ToString())[^1];
        Assert.Equal($"test_acc {(100 * expected).ToString("F2", CultureInfo.InvariantCulture)}", last);
        Assert.True(expected > 0 && expected < 1, $"accuracy {expected}: the check needs a model that is neither always right nor always wrong");
    }

    [Fact]
    public void EvaluateRefusesAMissingFileAndAWrongModelWithOneLine()
    {
        var e = Assert.Throws<UsageException>(() => TorchCli.Evaluate("tiny", Path.Combine(_dir, "absent.safetensors"), _dir, "cpu", 1, TextWriter.Null, TextWriter.Null));
        Assert.Equal("--weights", e.Option);
        Assert.Contains("does not exist", e.Message);

        string weights = Path.Combine(_dir, "reference.safetensors");
        Safetensors.Save(EngineTwin.For(Architecture.Reference), weights);
        var stderr = new StringWriter();
        int code = TorchCli.Evaluate("tiny", weights, _dir, "cpu", 1, TextWriter.Null, stderr);
        Assert.Equal(1, code);
        Assert.Single(Lines(stderr.ToString()), l => l.StartsWith("era: evaluate: ", StringComparison.Ordinal));
        Assert.Contains("does not match the model", stderr.ToString());
        Assert.Contains("shape mismatch for f.1.0.weight", stderr.ToString());

        Assert.Equal("--model", Assert.Throws<UsageException>(() => TorchCli.Evaluate("resnet", weights, _dir, "cpu", 1, TextWriter.Null, TextWriter.Null)).Option);
    }

    [Fact]
    public void BenchWithTorchSharpPrintsTheMetricsLast()
    {
        var (code, output, error) = Run("bench", "--engine", "torchsharp", "--device", "cpu", "--model", "tiny", "--batches", "4", "--batch-size", "16", "--threads", "1", "--data", _dir);
        Assert.True(code == 0, error);
        var lines = Lines(output);
        Assert.Equal(["train_ms_per_batch", "images_per_second", "peak_rss_mb"], lines[^3..].Select(l => l.Split(' ')[0]));
        Assert.All(lines[^3..], l => Assert.True(double.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture) > 0, l));
        Assert.Contains("7546 parameters; engine torchsharp (libtorch) on cpu", output);
        Assert.Contains("timed 1 batches", output);
    }

    [Fact]
    public void TrainWithTorchSharpSavesWeightsTheEngineLoads()
    {
        string weights = Path.Combine(_dir, "out.safetensors"), json = Path.Combine(_dir, "out.json");
        var (code, output, error) = Run("train", "--engine", "torchsharp", "--model", "tiny", "--epochs", "2", "--batch-size", "16",
            "--threads", "1", "--data", _dir, "--out", weights, "--json", json);
        Assert.True(code == 0, error);
        var lines = Lines(output);
        Assert.StartsWith("epoch 1 train_loss ", lines[0]);
        Assert.StartsWith("epoch 2 train_loss ", lines[1]);
        Assert.StartsWith("best_test_acc ", lines[^3]);
        Assert.Equal("parameters 7546", lines[^1]);
        Assert.Contains("epoch 2 batch 4/4", error); // 64 images in batches of 16
        var engine = EngineTwin.For(Architecture.Tiny);
        Safetensors.Load(engine, weights);
        Assert.Equal(8, engine.state_dict().Single(s => s.Name == "f.0.1.num_batches_tracked").Tensor.Data[0]);
        Assert.Contains("\"engine\": \"torchsharp\"", File.ReadAllText(json));
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
    public void CudaWithoutAGpuIsAUsageError()
    {
        if (TorchSharp.torch.cuda.is_available()) return; // a GPU machine with a CUDA build: nothing to refuse
        var (code, _, error) = Run("bench", "--engine", "torchsharp", "--device", "cuda", "--model", "tiny", "--batches", "1", "--data", _dir);
        Assert.Equal(2, code);
        Assert.Contains("era: --device: device cuda: no CUDA device", error);
    }
}
