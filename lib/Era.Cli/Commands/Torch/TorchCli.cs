using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Era.Data;
using Era.Engine.Checkpoints;
using Era.Engine.Training;
using Era.IO;
using Era.Torch;
using TorchSharp;
using Recipe = Era.Torch.Recipe;

namespace Era.Cli.Commands.Torch;

/// <summary>
/// The TorchSharp side of `era train`, `era bench` and `era evaluate` (`--engine torchsharp`): the same models, recipe,
/// data and output lines as the engine's verbs, run by libtorch on the chosen device. Nothing here runs, and libtorch
/// is not loaded, unless --engine torchsharp is given.
/// </summary>
internal static class TorchCli
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>--engine era|torchsharp, for train, bench and evaluate.</summary>
    public static Option<string> EngineOption()
    {
        var o = new Option<string>("--engine") { Description = "era (the course's engine) or torchsharp (libtorch through TorchSharp)", DefaultValueFactory = _ => "era" };
        o.AcceptOnlyFromAmong("era", "torchsharp");
        return o;
    }

    /// <summary>--device cpu|cuda (torchsharp only; default: cuda when available).</summary>
    public static Option<string?> DeviceOption()
    {
        var o = new Option<string?>("--device") { Description = "With --engine torchsharp: cpu or cuda (default: cuda when a GPU and a CUDA build are there, else cpu)" };
        o.AcceptOnlyFromAmong("cpu", "cuda");
        return o;
    }

    /// <summary>Whether the parsed --engine is torchsharp.</summary>
    public static bool Selected(ParseResult parse, Option<string> engine) => parse.GetValue(engine) == "torchsharp";

    /// <summary>`era train --engine torchsharp`: the engine's recipe and output lines; a checked-options twin of TrainCommand.Run.</summary>
    public static int Train(string modelName, Recipe recipe, int threads, string? dataDir, string? outPath, string? jsonPath,
        string? deviceName, TextWriter output, TextWriter error, int? maxBatches = null, Augmentation? augmentation = null, double dropout = 0.05)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var architecture = Model(modelName);
        if (!Start("train", threads, recipe.Seed, deviceName, error, out var device)) return Cli.ExitFindings;
        if (!MnistData.TryLoad("train", dataDir, error, out string dir, out var train, out var test)) return Cli.ExitFindings;

        var net = TorchModels.Create(architecture.Name, device, dropout);
        Era.Engine.torch.manual_seed(recipe.Seed); // the engine's generator shuffles the batches: the same order as `era train`
        var loader = new DataLoader(train, recipe.BatchSize, shuffle: true, augmentation: augmentation);
        var testLoader = new DataLoader(test, 1000);
        int batches = Math.Min(loader.Count, maxBatches ?? int.MaxValue);
        var trainer = TorchTrainer.ForRecipe(net, recipe, batches);
        error.WriteLine(string.Create(Inv, $"train: {train.Count} training and {test.Count} test images from {dir}; model {architecture.Name}, {net.ParameterCount} parameters; engine torchsharp on {device}"));
        error.WriteLine(string.Create(Inv, $"train: {recipe.Epochs} epochs x {batches} batches of {recipe.BatchSize}, SGD momentum {Cli.Format(recipe.Momentum)} weight decay {Cli.Format(recipe.WeightDecay)}, OneCycleLR max lr {Cli.Format(recipe.MaxLr)}, seed {recipe.Seed}, {TorchSharp.torch.get_num_threads()} threads"));

        int every = Math.Max(1, batches / 10);
        trainer.OnProgress = p =>
        {
            if (p.Batch % every == 0 || p.Batch == p.BatchesPerEpoch)
                error.WriteLine(string.Create(Inv, $"epoch {p.Epoch} batch {p.Batch}/{p.BatchesPerEpoch} loss {p.EpochLoss:F4} acc {100 * p.EpochAccuracy:F2} lr {p.LearningRate:G4}"));
        };
        var history = new List<EpochResult>();
        trainer.OnEpoch = e =>
        {
            history.Add(e);
            output.WriteLine(string.Create(Inv,
                $"epoch {e.Epoch} train_loss {e.TrainLoss:F4} train_acc {100 * e.TrainAccuracy:F2} test_loss {e.TestLoss:F4} test_acc {100 * e.TestAccuracy:F2} time_s {(e.TrainTime + e.TestTime).TotalSeconds:F1}"));
            output.Flush();
        };
        try
        {
            trainer.Fit(loader, testLoader, recipe.Epochs, maxBatches);
        }
        catch (TrainingDivergedException e)
        {
            error.WriteLine($"era: train: {e.Message} (nothing was saved)");
            return Cli.ExitFindings;
        }

        var best = history.MaxBy(e => e.TestAccuracy)!;
        var last = history[^1];
        output.WriteLine(string.Create(Inv, $"best_test_acc {100 * best.TestAccuracy:F2} epoch {best.Epoch}"));
        output.WriteLine(string.Create(Inv, $"final_test_acc {100 * last.TestAccuracy:F2}"));
        output.WriteLine(string.Create(Inv, $"parameters {net.ParameterCount}"));
        int code = Cli.ExitOk;
        if (outPath is not null)
        {
            code |= Save(error, "weights", outPath, () => TorchCheckpoint.Save(net, outPath, new Dictionary<string, string>
            {
                ["model"] = architecture.Name,
                ["engine"] = "torchsharp",
                ["epochs"] = recipe.Epochs.ToString(Inv),
                ["test_acc"] = (100 * last.TestAccuracy!.Value).ToString("F2", Inv),
            }));
        }
        if (jsonPath is not null)
            code |= Save(error, "history", jsonPath, () => AtomicFile.WriteAllText(jsonPath, HistoryJson(architecture.Name, net.ParameterCount, recipe, device.ToString(), history)));
        return code;
    }

    /// <summary>
    /// `era evaluate --engine torchsharp --weights FILE`: loads a checkpoint (the engine's format) into the model and
    /// prints the test loss and, last, `test_acc X` (percent of the 10,000 test images).
    /// </summary>
    public static int Evaluate(string modelName, string weights, string? dataDir, string? deviceName, int? threads,
        TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var architecture = Model(modelName);
        if (string.IsNullOrEmpty(weights)) throw new UsageException("--weights", "a checkpoint file is required");
        if (!File.Exists(weights)) throw new UsageException("--weights", $"file '{weights}' does not exist");
        MnistData.CheckOption(dataDir);
        if (!Start("evaluate", threads ?? Environment.ProcessorCount, 1, deviceName, error, out var device)) return Cli.ExitFindings;
        var net = TorchModels.Create(architecture.Name, device);
        try
        {
            TorchCheckpoint.Load(net, weights);
        }
        catch (CheckpointException e)
        {
            error.WriteLine($"era: evaluate: {e.Message.Split('\n')[0]} {string.Join("; ", e.Message.Split('\n').Skip(1).Select(l => l.Trim()))}".TrimEnd());
            return Cli.ExitFindings;
        }
        if (!MnistData.TryLoad("evaluate", dataDir, error, out string dir, out _, out var test)) return Cli.ExitFindings;
        var clock = Stopwatch.StartNew();
        var (loss, accuracy) = TorchTrainer.Evaluate(net, new DataLoader(test, 1000));
        output.WriteLine(string.Create(Inv, $"model {architecture.Name}, weights {weights}, engine torchsharp on {device}, {test.Count} test images from {dir}"));
        output.WriteLine(string.Create(Inv, $"test_loss {loss:F4} time_s {clock.Elapsed.TotalSeconds:F1}"));
        output.WriteLine(string.Create(Inv, $"test_acc {100 * accuracy:F2}"));
        return Cli.ExitOk;
    }

    /// <summary>`era bench --engine torchsharp`: the same batches, recipe and closing lines as the engine's bench.</summary>
    public static int Bench(string modelName, int batches, int batchSize, int? threads, string? dataDir, long seed, int warmup,
        string? deviceName, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var architecture = Model(modelName);
        warmup = BenchCommand.CheckOptions(batches, batchSize, threads, warmup, dataDir);
        if (!Start("bench", threads ?? Environment.ProcessorCount, seed, deviceName, error, out var device)) return Cli.ExitFindings;
        var clock = Stopwatch.StartNew();
        if (!MnistData.TryLoad("bench", dataDir, error, out string dir, out var train, out var test)) return Cli.ExitFindings;
        output.WriteLine(string.Create(Inv, $"data {dir}: {train.Count} training and {test.Count} test images, loaded in {clock.Elapsed.TotalSeconds:F2} s"));

        var net = TorchModels.Create(architecture.Name, device);
        output.WriteLine(string.Create(Inv, $"model {architecture.Name}: {net.ParameterCount} parameters; engine torchsharp (libtorch) on {device}"));
        output.WriteLine(string.Create(Inv, $"threads {TorchSharp.torch.get_num_threads()}, batch size {batchSize}, batches {batches} ({warmup} warm-up, not timed), seed {seed}"));
        Era.Engine.torch.manual_seed(seed);
        var loader = new DataLoader(train, batchSize, shuffle: true, drop_last: true);
        if (loader.Count == 0) throw new UsageException("--batch-size", $"larger than the {train.Count} training images");
        var trainer = TorchTrainer.ForRecipe(net, new Recipe(Epochs: 1, BatchSize: batchSize, Seed: seed), batches);

        net.train();
        // TorchTrainer.Step reads the loss, so each step waits for the device: the time is the steps' own.
        return BenchCommand.TimeSteps(loader, batches, warmup, trainer.Step, macs: null, progress: false, output, error);
    }

    private static Architecture Model(string name)
    {
        try
        {
            return Architecture.Get(name);
        }
        catch (ArgumentException)
        {
            throw new UsageException("--model", $"unknown model '{name}' (available: {Architecture.Names})");
        }
    }

    /// <summary>Loads libtorch (one line and false if it cannot), seeds it, sets its threads and picks the device.</summary>
    private static bool Start(string verb, int threads, long seed, string? deviceName, TextWriter error, out TorchSharp.torch.Device device)
    {
        device = null!;
        try
        {
            var info = TorchNative.EnsureLoaded();
            error.WriteLine($"{verb}: {info.Reason}"); // the loader, and which convolutions libtorch may use here
        }
        catch (TorchNativeException e)
        {
            error.WriteLine($"era: {verb}: {e.Message}");
            return false;
        }
        try
        {
            device = TorchDevice.Parse(deviceName);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--device", e.Message);
        }
        TorchSharp.torch.set_num_threads(threads);
        TorchSharp.torch.manual_seed(seed);
        return true;
    }

    private static int Save(TextWriter error, string what, string path, Action save)
    {
        try
        {
            save();
            error.WriteLine($"train: {what} saved to {path}");
            return Cli.ExitOk;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"era: train: could not save the {what} to '{path}': {e.Message}");
            return Cli.ExitFindings;
        }
    }

    private static string HistoryJson(string model, long parameters, Recipe recipe, string device, List<EpochResult> history)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteString("engine", "torchsharp");
            w.WriteString("device", device);
            w.WriteNumber("parameters", parameters);
            w.WriteNumber("epochs", recipe.Epochs);
            w.WriteNumber("batch_size", recipe.BatchSize);
            w.WriteNumber("max_lr", recipe.MaxLr);
            w.WriteNumber("momentum", recipe.Momentum);
            w.WriteNumber("seed", recipe.Seed);
            w.WriteStartArray("history");
            foreach (var e in history)
            {
                w.WriteStartObject();
                w.WriteNumber("epoch", e.Epoch);
                Number(w, "train_loss", e.TrainLoss);
                w.WriteNumber("train_acc", 100 * e.TrainAccuracy);
                Number(w, "test_loss", e.TestLoss!.Value);
                w.WriteNumber("test_acc", 100 * e.TestAccuracy!.Value);
                w.WriteNumber("train_s", e.TrainTime.TotalSeconds);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }
}
