using System.Text.Json;
using Era.Engine.Checkpoints;

namespace Era.Tests.Engine;

/// <summary>
/// Checkpoints move between this engine and PyTorch: a file we write loads into the anchor Net
/// (../shared/anchors/pytorch_mnist.py) with load_state_dict(strict=True), and a file PyTorch's side writes loads here.
/// </summary>
[Collection(EngineCollection.Name)] // seeds the global generator / sets the thread count
public sealed class CheckpointInteropTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-interop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AnchorNetLoadsOurCheckpointAndWeLoadItsOutput()
    {
        // The anchor Net's own state_dict names and shapes, as PyTorch reports them.
        using var names = JsonDocument.Parse(PyTorchRunner.Run("checkpoint_interop.py", "names"));
        var entries = names.RootElement.EnumerateArray()
            .Select(e => (e[0].GetString()!, e[1].EnumerateArray().Select(d => d.GetInt32()).ToArray())).ToList();
        Assert.Equal(45, entries.Count);
        var ours = StateDictModule<float>.FromNames(entries).FillDistinct();
        string mine = Path.Combine(_dir, "ours.safetensors"), theirs = Path.Combine(_dir, "theirs.safetensors");
        Safetensors.Save(ours, mine);

        string output = PyTorchRunner.Run("checkpoint_interop.py", "roundtrip", mine, theirs);
        Assert.Contains("ok 45", output);

        var back = StateDictModule<float>.FromNames(entries);
        Safetensors.Load(back, theirs);
        var a = ours.state_dict();
        var b = back.state_dict();
        for (int i = 0; i < a.Count; i++)
        {
            bool counter = a[i].Name.EndsWith("num_batches_tracked", StringComparison.Ordinal), variance = a[i].Name.EndsWith("running_var", StringComparison.Ordinal);
            Assert.Equal(a[i].Tensor.Data.Select(v => counter ? v + 1 : variance ? 2 * v : -v), b[i].Tensor.Data);
        }
    }
}
