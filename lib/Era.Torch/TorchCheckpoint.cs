using Era.Engine.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;
using EraTensor = Era.Engine.Tensor<float>;

namespace Era.Torch;

/// <summary>
/// Safetensors checkpoints for <see cref="TorchMnistNet"/>, in exactly Era.Engine's format (the same file reader and
/// writer, <see cref="Safetensors"/>): the same names, F32 weights, num_batches_tracked as an I64 scalar. So weights
/// trained by the engine load here, and the other way round, and into PyTorch.
/// </summary>
public static class TorchCheckpoint
{
    /// <summary>Saves the model's state_dict to <paramref name="path"/>, atomically.</summary>
    public static void Save(TorchMnistNet model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = model.StateDict().Select(s => (s.Name, ToEra(s.Tensor))).ToList();
        Safetensors.Save(tensors, path, metadata);
    }

    /// <summary>
    /// Loads a checkpoint, as load_state_dict(strict=True): the file is read and checked first, by the engine's own
    /// <see cref="Safetensors.Match"/> (every missing, unexpected or mismatched name and every impossible value is
    /// listed in one <see cref="CheckpointException"/>), so a bad file changes nothing and no wrong shape ever reaches
    /// libtorch.
    /// </summary>
    public static void Load(TorchMnistNet model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var state = model.StateDict();
        var tensors = Safetensors.Match(path, state.Select(s => (s.Name, s.Tensor.shape.Select(d => (int)d).ToArray())).ToList());

        // Convert everything first, then copy: nothing below can fail half-way. Values go through double, so a
        // float64 model (.to(float64)) loads an F64 checkpoint exactly; copy_ rounds them to the model's dtype.
        var values = tensors.Select(t => t.ToArray<double>()).ToList();
        using var _ = no_grad();
        for (int i = 0; i < state.Count; i++)
        {
            var target = state[i].Tensor;
            using var source = target.dtype == ScalarType.Int64 ? tensor((long)values[i][0]) : tensor(values[i], target.shape);
            target.copy_(source);
        }
    }

    /// <summary>A TorchSharp tensor as an Era.Engine tensor (copied to the CPU, as float).</summary>
    public static EraTensor ToEra(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        using var cpu = t.detach().to(CPU).to(ScalarType.Float32).contiguous();
        return new EraTensor(cpu.data<float>().ToArray(), t.shape.Select(d => (int)d).ToArray());
    }

    /// <summary>An Era.Engine tensor as a TorchSharp tensor on <paramref name="device"/> (a copy).</summary>
    public static Tensor FromEra(EraTensor t, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(t);
        var result = tensor(t.Data, t.Shape.Select(d => (long)d).ToArray());
        return device is null || device.type == DeviceType.CPU ? result : result.to(device);
    }
}
