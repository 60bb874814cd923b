using Era.Engine;
using Era.Engine.Checkpoints;
using Era.Engine.Models;
using Era.Engine.Training;

namespace Era.Torch.Tests;

/// <summary>Checkpoints both ways between Era.Engine and TorchSharp, and bad files refused before libtorch sees them.</summary>
[Collection(TorchCollection.Name)]
public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-torch-ckpt-").FullName;

    public CheckpointTests() => TorchNative.EnsureLoaded();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("reference")]
    [InlineData("course")]
    [InlineData("tiny")]
    public void EngineToTorchToEngineIsByteIdentical(string name)
    {
        var a = Architecture.Get(name);
        Era.Engine.torch.manual_seed(2);
        var engine = new MnistNet<float>(a);
        Fixtures.Perturb(engine, 9);
        Safetensors.Save(engine, PathOf("engine.safetensors"));
        var net = new TorchMnistNet(a);
        TorchCheckpoint.Load(net, PathOf("engine.safetensors"));
        TorchCheckpoint.Save(net, PathOf("torch.safetensors"));
        Assert.Equal(File.ReadAllBytes(PathOf("engine.safetensors")), File.ReadAllBytes(PathOf("torch.safetensors")));
    }

    [Fact]
    public void TorchTrainedWeightsLoadIntoTheEngineAndPredictTheSame()
    {
        var a = Architecture.Course;
        TorchSharp.torch.manual_seed(3);
        var net = new TorchMnistNet(a);
        var trainer = TorchTrainer.ForRecipe(net, Recipe.For("course") with { Epochs = 1 }, 3);
        net.train();
        for (int i = 0; i < 3; i++)
        {
            var (xb, yb) = Fixtures.Batch(16, 20 + i);
            trainer.Step(xb, yb);
        }
        TorchCheckpoint.Save(net, PathOf("torch.safetensors"), new Dictionary<string, string> { ["model"] = "course" });

        var engine = new MnistNet<float>(a);
        Safetensors.Load(engine, PathOf("torch.safetensors"));
        var state = engine.state_dict().ToDictionary(s => s.Name, s => s.Tensor);
        Assert.Equal(3, state["f.0.1.num_batches_tracked"].Data[0]);
        var (x, _) = Fixtures.Batch(8, 99);
        engine.eval();
        double diff = Fixtures.MaxAbsDiff(engine.Forward(x).Data, TorchTrainer.LogProbabilities(net, x).Data);
        Assert.True(diff < 1e-5, $"max |Δ log p| = {diff:E2}");
    }

    [Fact]
    public void AMissingFileIsAClearError()
    {
        var net = new TorchMnistNet(Architecture.Tiny);
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Load(net, PathOf("absent.safetensors")));
        Assert.Contains("absent.safetensors: cannot read the checkpoint", e.Message);
    }

    [Fact]
    public void WrongShapesAreListedAndNothingIsLoaded()
    {
        Safetensors.Save(new MnistNet<float>(Architecture.Tiny), PathOf("tiny.safetensors"));
        var net = new TorchMnistNet(Architecture.Course);
        float[] before = TorchCheckpoint.ToEra(net.StateDict()[0].Tensor).Data;
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Load(net, PathOf("tiny.safetensors")));
        Assert.Contains("nothing was loaded", e.Message);
        Assert.Contains("shape mismatch for f.0.0.weight: checkpoint [8, 1, 3, 3], model [10, 1, 3, 3]", e.Message);
        Assert.Contains("missing f.8.0.weight", e.Message); // course has one block more than tiny
        Assert.Contains("shape mismatch for fc.weight: checkpoint [10, 16], model [10, 20]", e.Message);
        Assert.Equal(before, TorchCheckpoint.ToEra(net.StateDict()[0].Tensor).Data);
    }

    [Fact]
    public void ValuesNoTrainedModelHoldsAreRefusedAsTheEngineRefusesThem()
    {
        var engine = new MnistNet<float>(Architecture.Tiny);
        var state = engine.state_dict().ToDictionary(s => s.Name, s => s.Tensor);
        state["f.1.0.weight"].Data[5] = float.NaN;
        state["f.4.1.running_var"].Data[0] = -1f;
        Safetensors.Save(engine, PathOf("bad.safetensors"));
        var net = new TorchMnistNet(Architecture.Tiny);
        float[] before = TorchCheckpoint.ToEra(net.StateDict()[0].Tensor).Data;
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Load(net, PathOf("bad.safetensors")));
        Assert.Contains("f.1.0.weight: NaN at index 5 of ", e.Message);
        Assert.Contains("f.4.1.running_var: -1 at index 0 of ", e.Message);
        Assert.Equal(Assert.Throws<CheckpointException>(() => Safetensors.Load(new MnistNet<float>(Architecture.Tiny), PathOf("bad.safetensors"))).Message, e.Message);
        Assert.Equal(before, TorchCheckpoint.ToEra(net.StateDict()[0].Tensor).Data);
    }

    [Fact]
    public void ATruncatedFileIsRefused()
    {
        Safetensors.Save(new MnistNet<float>(Architecture.Tiny), PathOf("tiny.safetensors"));
        byte[] bytes = File.ReadAllBytes(PathOf("tiny.safetensors"));
        File.WriteAllBytes(PathOf("cut.safetensors"), bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<CheckpointException>(() => TorchCheckpoint.Load(new TorchMnistNet(Architecture.Tiny), PathOf("cut.safetensors")));
        Assert.Contains("not a valid safetensors file", e.Message);
    }

    [Fact]
    public void BadInputShapesAndLabelsAreRefusedBeforeLibtorch()
    {
        var net = new TorchMnistNet(Architecture.Reference);
        Assert.Contains("expected images of shape [N, 1, H, W], got [2, 3, 28, 28]",
            Assert.Throws<ArgumentException>(() => TorchTrainer.Predict(net, new Tensor<float>(2, 3, 28, 28))).Message);
        Assert.Contains("too small", Assert.Throws<ArgumentException>(() => TorchTrainer.Predict(net, new Tensor<float>(2, 1, 8, 8))).Message);
        Assert.Contains("[784]", Assert.Throws<ArgumentException>(() => TorchTrainer.Predict(net, new Tensor<float>(784))).Message);
        var trainer = TorchTrainer.ForRecipe(net, Recipe.For("course") with { Epochs = 1 }, 1);
        var (x, _) = Fixtures.Batch(2, 1);
        Assert.Contains("label 10 is not a class", Assert.Throws<ArgumentException>(() => trainer.Step(x, [1, 10])).Message);
        Assert.Contains("1 labels for 2 images", Assert.Throws<ArgumentException>(() => trainer.Step(x, [1])).Message);
        Assert.Equal(Architecture.Reference.MinimumInputSize, Enumerable.Range(1, 40).First(s => Architecture.Reference.OutputSize(s) >= 1));
        Assert.Single(TorchTrainer.Predict(net, Fixtures.Batch(1, 2, Architecture.Reference.MinimumInputSize).Images));
    }
}
