using Era.Engine;
using Era.Engine.Checkpoints;
using Era.Engine.Models;
using Era.Engine.Optim;

namespace Era.Tests.Engine;

/// <summary>
/// The same weights and batch in this engine and in PyTorch 1.13 (the anchor Net of ../shared/anchors/pytorch_mnist.py,
/// dropout p = 0, train-mode BatchNorm): log-probabilities, loss, every parameter gradient, the updated running
/// statistics and one SGD step (momentum, weight decay) agree to float32 precision. Needs python3-torch: a missing
/// PyTorch fails the test with the install hint.
/// </summary>
[Collection(EngineCollection.Name)] // seeds the global generator / sets the thread count
public sealed class PyTorchCrossCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-xcheck-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const int N = 8;

    /// <summary>reference against the anchor's own Net; course and tiny against PyTorch models written from the spec in the script.</summary>
    [Theory]
    [InlineData("reference")]
    [InlineData("course")]
    [InlineData("tiny")]
    public void ModelMatchesPyTorch(string model)
    {
        var net = ModelZoo.Create(model, seed: 5, dropout: 0);
        // Non-trivial BN state so that affine parameters and running statistics are exercised too.
        int k = 0;
        foreach (var (name, t) in net.state_dict())
        {
            k++;
            for (int i = 0; i < t.Numel; i++)
            {
                if (name.EndsWith(".1.weight", StringComparison.Ordinal)) t.Data[i] = 1 + 0.2f * MathF.Sin(k + i);
                else if (name.EndsWith(".1.bias", StringComparison.Ordinal)) t.Data[i] = 0.1f * MathF.Cos(k + i);
                else if (name.EndsWith("running_mean", StringComparison.Ordinal)) t.Data[i] = 0.01f * i;
                else if (name.EndsWith("running_var", StringComparison.Ordinal)) t.Data[i] = 1 + 0.05f * i;
                else if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) t.Data[i] = 3;
            }
        }
        var x = new Tensor<float>(N, 1, 28, 28);
        for (int i = 0; i < x.Numel; i++) x.Data[i] = MathF.Sin(0.37f * i) + 0.5f * MathF.Cos(0.011f * i);
        int[] y = [3, 1, 4, 1, 5, 9, 2, 6];
        string weights = Path.Combine(_dir, "w.safetensors"), batch = Path.Combine(_dir, "b.safetensors"), result = Path.Combine(_dir, "r.safetensors");
        Safetensors.Save(net, weights);
        Safetensors.Save([("x", x), ("y", new Tensor<float>(y.Select(v => (float)v).ToArray(), N))], batch);

        PyTorchRunner.Run("reference_net_step.py", weights, batch, result, model);
        var torchResult = Safetensors.Read(result);

        net.train();
        net.zero_grad();
        var output = net.Forward(x);
        var loss = F.nll_loss(output, y);
        net.Backward(loss.Grad);

        Close("output", output.Data, torchResult["output"].ToArray<float>());
        Close("loss", [(float)loss.Value], torchResult["loss"].ToArray<float>());
        foreach (var (name, p) in net.NamedParameters())
            Close("grad." + name, p.Grad.Data, torchResult["grad." + name].ToArray<float>());
        foreach (var (name, t) in net.state_dict())
            Close("state." + name, t.Data, torchResult["state." + name].ToArray<float>());

        new SGD<float>(net.parameters(), lr: 0.1, momentum: 0.9, weight_decay: 1e-4).step();
        foreach (var (name, p) in net.NamedParameters())
            Close("sgd." + name, p.Value.Data, torchResult["sgd." + name].ToArray<float>());
    }

    /// <summary>Equal to float32 precision: |ours − torch| ≤ 1e-4 · max|torch| (+1e-6 for all-zero tensors), element by element.</summary>
    private static void Close(string name, ReadOnlySpan<float> ours, float[] theirs)
    {
        Assert.True(ours.Length == theirs.Length, $"{name}: {ours.Length} values here, {theirs.Length} in PyTorch");
        float scale = theirs.Max(MathF.Abs);
        for (int i = 0; i < ours.Length; i++)
            Assert.True(MathF.Abs(ours[i] - theirs[i]) <= 1e-4f * scale + 1e-6f, $"{name}[{i}]: ours {ours[i]:R}, PyTorch {theirs[i]:R} (largest |value| {scale:R})");
    }
}
