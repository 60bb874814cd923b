using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Era.Data;
using Era.Engine;
using Era.Engine.Checkpoints;
using Era.Engine.Models;
using Era.Engine.Optim;
using Era.Engine.Training;
using Era.IO;

namespace Era.Cli.Commands;

/// <summary>
/// `era train`: trains the reference CNN on MNIST with the PyTorch anchor's recipe (../shared/anchors/pytorch_mnist.py:
/// batch 128, SGD momentum, OneCycleLR up to max_lr over all epochs × batches, every batch of the epoch kept) and prints
/// one line per epoch, then the best and final test accuracy. Optionally saves the final weights (safetensors) and the
/// per-epoch history (JSON); both are written only when training finished, atomically.
/// </summary>
internal static class TrainCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Everything the options say, checked.</summary>
    private sealed record Settings(int Epochs, int BatchSize, double Lr, double MaxLr, double Momentum, double WeightDecay,
        int Threads, long Seed, string? Data, string? Out, string? Json);

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model to train: reference (the 12,098-parameter CNN)", DefaultValueFactory = _ => "reference" };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the 60,000 training images", DefaultValueFactory = _ => 15 };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per batch", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "SGD's learning rate as in the anchor (OneCycleLR replaces it: it starts at max-lr/25)", DefaultValueFactory = _ => 0.05 };
        var maxLr = new Option<double>("--max-lr") { Description = "OneCycleLR's peak learning rate, reached at 30% of the run", DefaultValueFactory = _ => 0.1 };
        var momentum = new Option<double>("--momentum") { Description = "SGD momentum; OneCycleLR cycles it between 0.85 and 0.95 as the anchor does, 0 turns momentum (and its cycling) off", DefaultValueFactory = _ => 0.9 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "L2 penalty added to the gradients", DefaultValueFactory = _ => 0 };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: all processors)" };
        var seed = new Option<long>("--seed") { Description = "Seed for weights, dropout and shuffling", DefaultValueFactory = _ => 1 };
        var data = new Option<string?>("--data") { Description = "MNIST directory (default: $MNIST_DIR, then the cache data/mnist)" };
        var output = new Option<string?>("--out") { Description = "Save the final weights here (safetensors, loadable by PyTorch)" };
        var json = new Option<string?>("--json") { Description = "Write the per-epoch history here (JSON)" };
        Option<string> engine = Torch.TorchCli.EngineOption();
        Option<string?> device = Torch.TorchCli.DeviceOption();

        var command = new Command("train", "Train the reference CNN on MNIST and print each epoch's loss and accuracy");
        foreach (var o in new Option[] { model, epochs, batchSize, lr, maxLr, momentum, weightDecay, threads, seed, data, output, json, engine, device })
            command.Options.Add(o);
        Cli.SetHandler(command, parse =>
        {
            var settings = new Settings(parse.GetValue(epochs), parse.GetValue(batchSize), parse.GetValue(lr), parse.GetValue(maxLr),
                parse.GetValue(momentum), parse.GetValue(weightDecay), parse.GetValue(threads) ?? Environment.ProcessorCount,
                parse.GetValue(seed), parse.GetValue(data), parse.GetValue(output), parse.GetValue(json));
            Check(settings, parse.GetValue(threads) is not null);
            if (Torch.TorchCli.Selected(parse, engine))
                return Torch.TorchCli.Train(parse.GetValue(model)!, new(settings.Epochs, settings.BatchSize, settings.Lr, settings.MaxLr, settings.Momentum, settings.WeightDecay, settings.Seed),
                    settings.Threads, settings.Data, settings.Out, settings.Json, parse.GetValue(device), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            if (parse.GetValue(model) != "reference")
                throw new UsageException("--model", $"unknown model '{parse.GetValue(model)}' (available: reference)");
            return Run(settings, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return command;
    }

    private static void Check(Settings s, bool threadsGiven)
    {
        if (s.Epochs is < 1 or > 1000) throw new UsageException("--epochs", $"must be between 1 and 1000, got {s.Epochs}");
        if (s.BatchSize is < 1 or > 60000) throw new UsageException("--batch-size", $"must be between 1 and 60000, got {s.BatchSize}");
        Positive("--lr", s.Lr);
        Positive("--max-lr", s.MaxLr);
        if (!(s.Momentum >= 0 && s.Momentum < 1)) throw new UsageException("--momentum", $"must be in [0, 1), got {Cli.Format(s.Momentum)}");
        if (!(s.WeightDecay >= 0 && double.IsFinite(s.WeightDecay))) throw new UsageException("--weight-decay", $"must be 0 or more, got {Cli.Format(s.WeightDecay)}");
        if (threadsGiven && s.Threads is < 1 or > 1024) throw new UsageException("--threads", $"must be between 1 and 1024, got {s.Threads}");
        MnistData.CheckOption(s.Data);
        CheckOutput("--out", s.Out);
        CheckOutput("--json", s.Json);
        if (s.Out is not null && s.Json is not null && Path.GetFullPath(s.Out) == Path.GetFullPath(s.Json))
            throw new UsageException("--json", $"'{s.Json}' is also the --out file");
    }

    private static void Positive(string option, double value)
    {
        if (!(value > 0 && double.IsFinite(value))) throw new UsageException(option, $"must be a positive number, got {Cli.Format(value)}");
    }

    /// <summary>Checked before training, so a typo does not cost a whole run: the folder must exist, the path must not be one.</summary>
    private static void CheckOutput(string option, string? path)
    {
        if (path is null) return;
        if (path.Length == 0 || Directory.Exists(path)) throw new UsageException(option, $"'{path}' is not a file name");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder)) throw new UsageException(option, $"directory '{folder}' does not exist");
        try
        {
            // The file itself is written at the end, atomically; here only: can a file be created in that folder?
            string probe = Path.Combine(folder ?? ".", $".era-train-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException(option, $"cannot write in '{folder}': {e.Message}");
        }
    }

    private static int Run(Settings s, TextWriter output, TextWriter error)
    {
        torch.set_num_threads(s.Threads);
        torch.manual_seed(s.Seed);
        if (!MnistData.TryLoad("train", s.Data, error, out string dir, out var train, out var test)) return Cli.ExitFindings;

        var net = new ReferenceNet();
        long parameters = net.parameters().Sum(p => (long)p.Numel);
        var loader = new DataLoader(train, s.BatchSize, shuffle: true); // every batch, the last one short, as the anchor
        var testLoader = new DataLoader(test, 1000);
        var optimizer = new SGD<float>(net.parameters(), lr: s.Lr, momentum: s.Momentum, weight_decay: s.WeightDecay);
        var scheduler = new OneCycleLR<float>(optimizer, max_lr: s.MaxLr, total_steps: s.Epochs * loader.Count, cycle_momentum: s.Momentum > 0);
        var trainer = new Trainer(net, optimizer, scheduler);
        error.WriteLine(string.Create(Inv, $"train: {train.Count} training and {test.Count} test images from {dir}; model reference, {parameters} parameters"));
        error.WriteLine(string.Create(Inv, $"train: {s.Epochs} epochs x {loader.Count} batches of {s.BatchSize}, SGD momentum {Cli.Format(s.Momentum)} weight decay {Cli.Format(s.WeightDecay)}, OneCycleLR max lr {Cli.Format(s.MaxLr)}, seed {s.Seed}, {torch.get_num_threads()} threads"));

        // Live progress: rewritten in place on a terminal; otherwise a line every ~10% of an epoch (for logs).
        bool live = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
        int every = live ? 10 : Math.Max(1, loader.Count / 10);
        trainer.OnProgress = p =>
        {
            if (p.Batch % every != 0 && p.Batch != p.BatchesPerEpoch) return;
            string line = string.Create(Inv, $"epoch {p.Epoch} batch {p.Batch}/{p.BatchesPerEpoch} loss {p.EpochLoss:F4} acc {100 * p.EpochAccuracy:F2} lr {p.LearningRate:G4}");
            if (live) error.Write($"\r{line}\u001b[K"); // \u001b[K clears the rest of the line
            else error.WriteLine(line);
        };
        var history = new List<EpochResult>();
        trainer.OnEpoch = e =>
        {
            if (live) error.Write("\r\u001b[K");
            history.Add(e);
            output.WriteLine(string.Create(Inv,
                $"epoch {e.Epoch} train_loss {e.TrainLoss:F4} train_acc {100 * e.TrainAccuracy:F2} test_loss {e.TestLoss:F4} test_acc {100 * e.TestAccuracy:F2} time_s {(e.TrainTime + e.TestTime).TotalSeconds:F1}"));
            output.Flush();
        };

        try
        {
            trainer.Fit(loader, testLoader, s.Epochs);
        }
        catch (TrainingDivergedException e)
        {
            if (live) error.Write("\r\u001b[K");
            error.WriteLine($"era: train: {e.Message} (nothing was saved)");
            return Cli.ExitFindings;
        }

        var best = history.MaxBy(e => e.TestAccuracy)!; // the first epoch with the highest accuracy
        var last = history[^1];
        output.WriteLine(string.Create(Inv, $"best_test_acc {100 * best.TestAccuracy:F2} epoch {best.Epoch}"));
        output.WriteLine(string.Create(Inv, $"final_test_acc {100 * last.TestAccuracy:F2}"));
        output.WriteLine(string.Create(Inv, $"parameters {parameters}"));
        int code = Cli.ExitOk;
        if (s.Out is not null)
        {
            code |= Save(error, "weights", s.Out, () => Safetensors.Save(net, s.Out, new Dictionary<string, string>
            {
                ["model"] = "reference",
                ["epochs"] = s.Epochs.ToString(Inv),
                ["test_acc"] = (100 * last.TestAccuracy!.Value).ToString("F2", Inv),
            }));
        }
        if (s.Json is not null)
            code |= Save(error, "history", s.Json, () => AtomicFile.WriteAllText(s.Json, HistoryJson(s, parameters, history, best)));
        return code;
    }

    /// <summary>Writes one output after training; a failure (disk full, folder gone) is one line and exit 1, not a crash.</summary>
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

    /// <summary>The settings and every epoch's numbers; accuracies in percent, as printed.</summary>
    private static string HistoryJson(Settings s, long parameters, List<EpochResult> history, EpochResult best)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", "reference");
            w.WriteNumber("parameters", parameters);
            w.WriteNumber("epochs", s.Epochs);
            w.WriteNumber("batch_size", s.BatchSize);
            w.WriteNumber("lr", s.Lr);
            w.WriteNumber("max_lr", s.MaxLr);
            w.WriteNumber("momentum", s.Momentum);
            w.WriteNumber("weight_decay", s.WeightDecay);
            w.WriteNumber("seed", s.Seed);
            w.WriteNumber("threads", s.Threads);
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
                w.WriteNumber("test_s", e.TestTime.TotalSeconds);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("best_test_acc", 100 * best.TestAccuracy!.Value);
            w.WriteNumber("best_epoch", best.Epoch);
            w.WriteNumber("final_test_acc", 100 * history[^1].TestAccuracy!.Value);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>JSON has no NaN or infinity: such a value (e.g. a test loss that overflowed) is written as null.</summary>
    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }
}
