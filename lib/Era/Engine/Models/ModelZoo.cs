using System.Numerics;
using Era.Engine.Checkpoints;

namespace Era.Engine.Models;

/// <summary>
/// The course's named MNIST models, one place for the CLI (`--model NAME`), the benchmark, the tests and the
/// notebooks. Each has a training recipe: <see cref="Training.Recipe.For"/>.
/// <code>
///   reference  12,098 parameters  the PyTorch anchor's CNN (shared/anchors/pytorch_mnist.py)
///   course     14,656 parameters  the course model (default): the assignment asks for &lt; 20,000
///   tiny        7,546 parameters  the smallest one
/// </code>
/// </summary>
public static class ModelZoo
{
    /// <summary>The model every tool uses when none is named.</summary>
    public const string Default = "course";

    /// <summary>The names, in the order help texts list them.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Architecture.All.Select(a => a.Name)];

    /// <summary>Whether <paramref name="name"/> is one of <see cref="Names"/>.</summary>
    public static bool Exists(string? name) => name is not null && Names.Contains(name);

    /// <summary>
    /// A fresh model with weights drawn from <see cref="torch.default_generator"/>, seeded first with
    /// <paramref name="seed"/> when given (as torch.manual_seed(seed); model = Net()).
    /// </summary>
    /// <param name="batchNorm">False builds the blocks without BatchNorm2d (the ablation).</param>
    /// <param name="globalAvgPool">False drops the global average pooling; fc then reads the flattened last feature maps (the ablation).</param>
    public static MnistNet<float> Create(string name, long? seed = null, double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true) =>
        Create<float>(name, seed, dropout, batchNorm, globalAvgPool);

    /// <summary>The same model in any precision (double for gradient checks).</summary>
    public static MnistNet<T> Create<T>(string name, long? seed = null, double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var architecture = Architecture.Get(name);
        if (seed is long s) torch.manual_seed(s);
        return new MnistNet<T>(architecture, dropout, batchNorm, globalAvgPool);
    }

    /// <summary>
    /// The recipe of a safetensors checkpoint's model: the model named <paramref name="name"/>, else the one the file's
    /// metadata names (era train writes "model", and "without" for an ablation's variant: bn and gap change the
    /// model), else the default. Throws <see cref="CheckpointException"/> when the file is not a checkpoint, or when
    /// its metadata names a model or part this program does not have (one line, not a list of shape mismatches).
    /// </summary>
    public static Training.Recipe RecipeOf(string path, string? name = null)
    {
        Safetensors.Read(path, out var metadata);
        if (name is null && metadata.TryGetValue("model", out var saved))
            name = Exists(saved) ? saved
                : throw new CheckpointException($"{path}: the checkpoint names model '{saved}', which this program does not have (available: {string.Join(", ", Names)}); name one to load it as (--model in the CLI)");
        name ??= Default;
        var without = metadata.TryGetValue("without", out var parts) ? parts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
        if (without.FirstOrDefault(p => !Training.Recipe.Parts.Contains(p)) is string unknown)
            throw new CheckpointException($"{path}: the checkpoint's metadata says without '{unknown}', which is not a part of a recipe (available: {string.Join(", ", Training.Recipe.Parts)})");
        return Training.Recipe.For(name) with { BatchNorm = !without.Contains("bn"), GlobalAvgPool = !without.Contains("gap") };
    }

    /// <summary>
    /// A model with the weights of a safetensors checkpoint, of the model <see cref="RecipeOf"/> names. Throws
    /// <see cref="CheckpointException"/> with every difference when the file does not fit the model.
    /// </summary>
    public static MnistNet<float> Load(string path, string? name = null)
    {
        var model = RecipeOf(path, name).CreateModel();
        Safetensors.Load(model, path);
        return model;
    }
}
