using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Era.Data;
using Era.Engine.Models;
using Era.Engine.Training;
using Era.IO;
using Spectre.Console;

namespace Era.Cli.Commands;

/// <summary>
/// `era train`: trains a <see cref="ModelZoo"/> model on MNIST with its <see cref="Recipe"/> (options override single
/// numbers of it) through <see cref="TrainingRun"/>, printing one line per epoch, then the best and final test
/// accuracy. On a terminal a live progress bar shows the epoch's batches; when stderr is redirected, plain lines.
/// With --out the weights are saved after every epoch (atomically), so Ctrl+C, which stops before the next batch,
/// keeps the last completed epoch's checkpoint; --json likewise holds the history, confusion matrix and mistakes.
/// </summary>
internal static class TrainCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Exit code after Ctrl+C, as a shell reports a process ended by SIGINT (128 + 2).</summary>
    private const int ExitInterrupted = 130;

    /// <summary>Everything the options say, checked.</summary>
    private sealed record Settings(Recipe Recipe, int Threads, long Seed, string? Data, string? Out, string? Json, int? LimitTrain, int? LimitTest);

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = $"Model to train: {string.Join(", ", ModelZoo.Names)}", DefaultValueFactory = _ => ModelZoo.Default };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the training images (default: the recipe's; the schedule spans them all)" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per batch (default: the recipe's, 128)" };
        var maxLr = new Option<double?>("--max-lr") { Description = "OneCycleLR's peak learning rate, reached at 30% of the run (default: the recipe's, 0.1)" };
        var momentum = new Option<double?>("--momentum") { Description = "SGD momentum; OneCycleLR cycles it between 0.85 and 0.95, 0 turns momentum off (default: 0.9)" };
        var weightDecay = new Option<double?>("--weight-decay") { Description = "L2 penalty added to the gradients (default: 0)" };
        var dropout = new Option<double?>("--dropout") { Description = "Dropout probability after each block (default: the recipe's, 0.05)" };
        var noAugment = new Option<bool>("--no-augment") { Description = "Train on the images as they are (no random rotations and shifts)" };
        var without = new Option<string[]>("--without")
        {
            Description = $"Leave one part of the recipe out, to see what it contributes (the ablation; repeatable): {string.Join(", ", Recipe.Parts)}",
            Arity = ArgumentArity.OneOrMore,
        };
        without.Validators.Add(r =>
        {
            foreach (string part in r.GetValueOrDefault<string[]>() ?? [])
                if (!Recipe.Parts.Contains(part)) r.AddError($"--without: unknown part '{part}' (available: {string.Join(", ", Recipe.Parts)})");
        });
        var seed = new Option<long>("--seed") { Description = "Seed for weights, shuffling, augmentation and dropout", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "Save the weights here after every epoch (safetensors, loadable by PyTorch)" };
        var json = new Option<string?>("--json") { Description = "Write the history, confusion matrix and misclassified test images here (JSON)" };
        var limitTrain = TypedOptions.OptionalInt("--limit-train", "Train on the first N training images only", 1, int.MaxValue);
        var limitTest = TypedOptions.OptionalInt("--limit-test", "Evaluate on the first N test images only", 1, int.MaxValue);
        var engine = new EngineOptions();

        var command = new Command("train", "Train a CNN on MNIST with its recipe and print each epoch's loss and accuracy");
        foreach (var o in new Option[] { model, epochs, batchSize, maxLr, momentum, weightDecay, dropout, noAugment, without, seed, output, json, limitTrain, limitTest })
            command.Options.Add(o);
        engine.AddTo(command);
        Cli.SetHandler(command, parse =>
        {
            string name = parse.GetValue(model)!;
            if (!ModelZoo.Exists(name)) throw new UsageException("--model", $"unknown model '{name}' (available: {string.Join(", ", ModelZoo.Names)})");
            var r = Recipe.For(name);
            r = r with
            {
                Epochs = parse.GetValue(epochs) ?? r.Epochs,
                BatchSize = parse.GetValue(batchSize) ?? r.BatchSize,
                MaxLr = parse.GetValue(maxLr) ?? r.MaxLr,
                Momentum = parse.GetValue(momentum) ?? r.Momentum,
                WeightDecay = parse.GetValue(weightDecay) ?? r.WeightDecay,
                Dropout = parse.GetValue(dropout) ?? r.Dropout,
                Augmentation = parse.GetValue(noAugment) ? null : r.Augmentation,
            };
            foreach (string part in parse.GetValue(without) ?? []) r = r.Without(part);
            var settings = new Settings(EngineOptions.Validate(r), engine.ThreadCount(parse), parse.GetValue(seed),
                parse.GetValue(engine.Data), parse.GetValue(output), parse.GetValue(json), parse.GetValue(limitTrain), parse.GetValue(limitTest));
            engine.Check(parse);
            EngineOptions.CheckMemory(settings.Recipe with { BatchSize = Math.Min(settings.Recipe.BatchSize, settings.LimitTrain ?? int.MaxValue) });   // a batch is at most the data
            CheckOutput("--out", settings.Out);
            CheckOutput("--json", settings.Json);
            if (settings.Out is not null && settings.Json is not null && Path.GetFullPath(settings.Out) == Path.GetFullPath(settings.Json))
                throw new UsageException("--json", $"'{settings.Json}' is also the --out file");
            var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            return engine.Start(parse, "train", settings.Seed, stderr, out var trainer) ? Run(settings, trainer, stdout, stderr) : Cli.ExitFindings;
        });
        return command;
    }

    /// <summary>
    /// Checked before training, so a typo does not cost a whole run (<see cref="Era.IO.AtomicFile.Check"/>). A missing
    /// folder is created at the first save, as by every --out (<see cref="Cli.CreateFolderFor"/>), so a run refused
    /// later leaves none behind; now only its nearest existing folder is checked.
    /// </summary>
    internal static void CheckOutput(string option, string? path)
    {
        if (path is null) return;
        try
        {
            string? folder = path.Length == 0 ? null : Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is null || Directory.Exists(folder) || Path.GetFileName(path).Length == 0)
                Era.IO.AtomicFile.Check(path);
            else   // the name, and that files (the missing folders) can be made in the nearest existing folder
                Era.IO.AtomicFile.Check(Path.Combine(Cli.ExistingFolderFor(path), Path.GetFileName(path)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException(option, e.Message);
        }
    }

    private static int Run(Settings s, Func<Recipe, int, ITrainer>? engine, TextWriter output, TextWriter error)
    {
        if (!MnistData.TryLoad("train", s.Data, error, out string dir, out var train, out var test)) return Cli.ExitFindings;
        if (s.LimitTrain is int nt) train = train.Take(nt);
        if (s.LimitTest is int ns) test = test.Take(ns);

        var run = new TrainingRun(s.Recipe, train, test, s.Seed, engine);
        var r = run.Recipe;
        string augment = r.Augmentation is { } a ? string.Create(Inv, $"augmentation ±{a.MaxDegrees:G}° ±{a.MaxShift:G} px") : "no augmentation";
        error.WriteLine(string.Create(Inv, $"train: {train.Count} training and {test.Count} test images from {dir}; model {r.Model}{(r.Missing.Count > 0 ? " without " + string.Join(", ", r.Missing) : "")}, {run.Parameters} parameters{(engine is null ? "" : "; engine " + run.Trainer.Engine)}"));
        error.WriteLine(string.Create(Inv, $"train: {r.Epochs} epochs x {run.TrainLoader.Count} batches of {r.BatchSize}, SGD momentum {Cli.Format(r.Momentum)} weight decay {Cli.Format(r.WeightDecay)}, {(r.Schedule ? $"OneCycleLR max lr {Cli.Format(r.MaxLr)}" : $"constant lr {Cli.Format(r.Lr)}")}, dropout {Cli.Format(r.Dropout)}, {augment}, seed {s.Seed}, {s.Threads} threads"));

        int saveCode = Cli.ExitOk;
        var metadata = new Dictionary<string, string> { ["model"] = r.Model };
        if (r.Missing.Count > 0) metadata["without"] = string.Join(",", r.Missing);
        run.OnEpoch = e =>
        {
            if (s.Out is not null)
            {
                metadata["epochs"] = e.Epoch.ToString(Inv);
                metadata["test_acc"] = (100 * e.TestAccuracy!.Value).ToString("F2", Inv);
                saveCode |= Save(error, "weights", s.Out, () =>
                {
                    Cli.CreateFolderFor(s.Out, error);
                    run.Trainer.Save(s.Out, metadata);
                });
            }
            if (s.Json is not null) saveCode |= SaveJson(run, s, error);
        };

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            e.Cancel = true;   // stop cleanly at the next batch instead of killing the process
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCtrlC;
        try
        {
            bool live = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;
            if (live) RunLive(run, output, cancel.Token);
            else RunPlain(run, output, error, cancel.Token);
        }
        catch (TrainingDivergedException e)
        {
            string kept = run.History.Count > 0 && s.Out is not null ? $"the checkpoint of epoch {run.History.Count} is kept" : "nothing was saved";
            error.WriteLine($"era: train: {e.Message} ({kept})");
            return Cli.ExitFindings;
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
        }

        if (run.Cancelled && s.Json is not null && run.History.Count > 0) saveCode |= SaveJson(run, s, error);   // "cancelled": true
        if (run.Cancelled)
            error.WriteLine(string.Create(Inv, $"train: stopped after {run.History.Count} of {r.Epochs} epochs{(s.Out is not null && run.History.Count > 0 ? $"; {s.Out} holds epoch {run.History.Count}" : "")}"));
        if (run.Best is { } best)
        {
            output.WriteLine(string.Create(Inv, $"best_test_acc {100 * best.TestAccuracy:F2} epoch {best.Epoch}"));
            output.WriteLine(string.Create(Inv, $"final_test_acc {100 * run.History[^1].TestAccuracy:F2}"));
        }
        output.WriteLine(string.Create(Inv, $"parameters {run.Parameters}"));
        if (s.Out is not null && saveCode == Cli.ExitOk && run.History.Count > 0) error.WriteLine($"train: weights saved to {s.Out}");
        if (s.Json is not null && saveCode == Cli.ExitOk && run.History.Count > 0) error.WriteLine($"train: history saved to {s.Json}");
        return run.Cancelled ? ExitInterrupted : saveCode;
    }

    /// <summary>Redirected output: every ~10% of an epoch a progress line on stderr, and the epoch lines on stdout.</summary>
    private static void RunPlain(TrainingRun run, TextWriter output, TextWriter error, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var previous = run.OnEpoch;
        run.OnBatch = p =>
        {
            if (p.Batch == 1) clock.Restart();
            int every = Math.Max(1, p.BatchesPerEpoch / 10);
            if (p.Batch % every != 0 && p.Batch != p.BatchesPerEpoch) return;
            error.WriteLine(ProgressText(run, p, clock.Elapsed.TotalSeconds));
        };
        run.OnEpoch = e =>
        {
            previous?.Invoke(e);
            output.WriteLine(TrainingJson.EpochLine(e, run.Recipe.Epochs));
            output.Flush();
        };
        run.Run(cancel);
    }

    /// <summary>A terminal: one Spectre.Console progress bar, reset each epoch; the epoch lines are printed above it.</summary>
    private static void RunLive(TrainingRun run, TextWriter output, CancellationToken cancel)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        bool sameTerminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var clock = Stopwatch.StartNew();
        var previous = run.OnEpoch;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"epoch 1/{run.Recipe.Epochs}", maxValue: run.TrainLoader.Count);
                run.OnBatch = p =>
                {
                    if (p.Batch == 1)
                    {
                        clock.Restart();
                        task.StartTask();   // a new epoch: the bar and its ETA start over
                        task.Value = 0;
                    }
                    task.Value = p.Batch;
                    task.Description = Markup.Escape(ProgressText(run, p, clock.Elapsed.TotalSeconds));
                };
                run.OnEpoch = e =>
                {
                    previous?.Invoke(e);
                    string line = TrainingJson.EpochLine(e, run.Recipe.Epochs);
                    if (sameTerminal) console.WriteLine(line);   // above the live bar
                    else
                    {
                        output.WriteLine(line);
                        output.Flush();
                    }
                };
                run.Run(cancel);
            });
    }

    private static string ProgressText(TrainingRun run, TrainingProgress p, double seconds) => string.Create(Inv,
        $"epoch {p.Epoch}/{run.Recipe.Epochs} batch {p.Batch}/{p.BatchesPerEpoch} loss {p.EpochLoss:F4} acc {100 * p.EpochAccuracy:F2}% lr {p.LearningRate:G4} {p.Batch * run.Recipe.BatchSize / Math.Max(seconds, 1e-9):F0} img/s");

    private static int SaveJson(TrainingRun run, Settings s, TextWriter error) =>
        Save(error, "history", s.Json!, () =>
        {
            Cli.CreateFolderFor(s.Json!, error);
            AtomicFile.WriteAllText(s.Json!, TrainingJson.Of(run, s.Threads));
        });

    /// <summary>Writes one output; a failure (disk full, folder gone) is one line and exit 1, not a crash.</summary>
    internal static int Save(TextWriter error, string what, string path, Action save)
    {
        try
        {
            save();
            return Cli.ExitOk;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"era: train: could not save the {what} to '{path}': {e.Message}");
            return Cli.ExitFindings;
        }
    }
}
