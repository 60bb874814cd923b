using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Era.Data;
using Era.Engine;
using Era.Engine.Kernels;
using Era.Engine.Models;
using Era.Engine.Training;

namespace Era.Cli.Commands;

/// <summary>
/// `era bench`: trains a model on real MNIST with its <see cref="Recipe"/> and the same <see cref="Trainer"/> as
/// `era train` (for the reference model exactly the PyTorch anchor's recipe, ../shared/anchors/pytorch_mnist.py:
/// batch 128, SGD lr 0.05 momentum 0.9, OneCycleLR max_lr 0.1, here over the benchmark's batches) and prints, last,
/// the speed: ms per training batch, images per second, GFLOP/s and peak resident memory.
/// A benchmark, not a test: the first batches warm up (JIT, caches) and are not timed.
/// </summary>
internal static class BenchCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = $"Model to train: {string.Join(", ", ModelZoo.Names)}", DefaultValueFactory = _ => "reference" };
        var batches = new Option<int>("--batches") { Description = "Training batches (the OneCycle schedule spans them)", DefaultValueFactory = _ => 50 };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per batch (default: the recipe's, 128)" };
        var seed = new Option<long>("--seed") { Description = "Seed for weights, dropout and shuffling", DefaultValueFactory = _ => 1 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up batches at the start (part of --batches)", DefaultValueFactory = _ => 3 };
        var profile = new Option<bool>("--profile") { Description = "Then time as many more steps module by module and print where a step's time goes (era engine only)" };
        var engine = new EngineOptions();

        var command = new Command("bench", "Train a CNN on MNIST for N batches with its recipe and report ms/batch, images/s, GFLOP/s and peak memory");
        foreach (var o in new Option[] { model, batches, batchSize, seed, warmup, profile }) command.Options.Add(o);
        engine.AddTo(command);
        Cli.SetHandler(command, parse => Run(parse, engine, parse.GetValue(model)!, parse.GetValue(batches), parse.GetValue(batchSize),
            parse.GetValue(seed), parse.GetValue(warmup), parse.GetValue(profile)));
        return command;
    }

    private static int Run(ParseResult parse, EngineOptions engine, string modelName, int batches, int? batchSizeOption, long seed, int warmup, bool profile)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        if (!ModelZoo.Exists(modelName)) throw new UsageException("--model", $"unknown model '{modelName}' (available: {string.Join(", ", ModelZoo.Names)})");
        var recipe = Recipe.For(modelName);
        recipe = EngineOptions.Validate(recipe with { BatchSize = batchSizeOption ?? recipe.BatchSize });
        if (batches < 1) throw new UsageException("--batches", $"must be at least 1, got {batches}");
        if (warmup < 0) throw new UsageException("--warmup", $"must be 0 or more, got {warmup}");
        engine.Check(parse);
        EngineOptions.CheckMemory(recipe);
        if (profile && engine.Torch(parse)) throw new UsageException("--profile", "profiles the era engine only (not with --engine torchsharp)");
        warmup = Math.Min(warmup, batches - 1);
        if (!engine.Start(parse, "bench", seed, error, out var factory)) return Cli.ExitFindings;
        torch.manual_seed(seed);

        var clock = Stopwatch.StartNew();
        // The test split is loaded too, as the anchor does, so memory compares like for like.
        if (!MnistData.TryLoad("bench", parse.GetValue(engine.Data), error, out string dir, out var train, out var test)) return Cli.ExitFindings;
        output.WriteLine(string.Create(Inv, $"data {dir}: {train.Count} training and {test.Count} test images, loaded in {clock.Elapsed.TotalSeconds:F2} s"));

        // The same recipe as `era train`, with the schedule spanning the benchmark's batches (and the profiled steps
        // after them); full batches only.
        int profileSteps = profile ? batches - warmup : 0;
        var trainer = (factory ?? Trainer.ForRecipe)(recipe, batches + profileSteps);
        var summary = Summary.summary(trainer is Trainer t ? t.Model : recipe.CreateModel(), 1, Mnist.ImageSize, Mnist.ImageSize);   // the same model on either engine
        long macs = summary.TotalMacs;
        output.WriteLine(string.Create(Inv, $"model {modelName}: {trainer.Parameters} parameters, {macs / 1e6:F2} M multiply-adds per image forward; engine {trainer.Engine}"));
        output.WriteLine(string.Create(Inv, $"threads {engine.ThreadCount(parse)}, batch size {recipe.BatchSize}, batches {batches} ({warmup} warm-up, not timed), seed {seed}{(recipe.Augmentation is null ? "" : ", augmented")}"));
        var loader = recipe.CreateTrainLoader(train, drop_last: true);
        if (loader.Count == 0) throw new UsageException("--batch-size", $"larger than the {train.Count} training images");

        trainer.SetTraining(true);
        // Both engines' Step read the loss, so each step waits for the device: the time is the steps' own.
        int exit = TimeSteps(loader, batches, warmup, trainer.Step, macs, progress: true, output, error);
        if (exit != Cli.ExitOk || !profile) return exit;
        using var steps = new StepProfile((Trainer)trainer);
        return Profile(steps, loader, profileSteps, output, error);
    }

    /// <summary>
    /// `--profile`: <paramref name="steps"/> more steps, timed module by module (<see cref="StepProfile"/>), then one
    /// line per row: `profile NAME fwd_ms F bwd_ms B ms T share S% kind K` (a block's ".conv" and ".bn_relu_dropout"
    /// parts split its row, indented), the total, and `profile_ms_per_batch`, to set beside train_ms_per_batch.
    /// </summary>
    private static int Profile(StepProfile profile, DataLoader loader, int steps, TextWriter output, TextWriter error)
    {
        try
        {
            profile.Run(loader, steps);
        }
        catch (TrainingDivergedException e)
        {
            error.WriteLine($"era: bench: {e.Message}");
            return Cli.ExitFindings;
        }
        double total = profile.TotalMs;
        var rows = profile.Rows();
        output.WriteLine(string.Create(Inv, $"profile: {profile.Steps} more steps, timed module by module (mean per step; share of the step)"));
        string Share(double ms) => string.Create(Inv, $"{100 * ms / total,5:F1}%");
        foreach (var r in rows)
        {
            string name = r.Part ? "  " + r.Name : r.Name;
            string fwd = r.HasBackward ? string.Create(Inv, $"{r.ForwardMs,7:F2}") : "      -";
            string bwd = r.HasBackward ? string.Create(Inv, $"{r.BackwardMs,7:F2}") : "      -";
            output.WriteLine(string.Create(Inv, $"profile {name,-24} fwd_ms {fwd} bwd_ms {bwd} ms {r.Ms,7:F2} share {Share(r.Ms)} kind {r.Kind}"));
        }
        double fwdSum = rows.Where(r => !r.Part && r.HasBackward).Sum(r => r.ForwardMs), bwdSum = rows.Where(r => !r.Part && r.HasBackward).Sum(r => r.BackwardMs);
        output.WriteLine(string.Create(Inv, $"profile {"total",-24} fwd_ms {fwdSum,7:F2} bwd_ms {bwdSum,7:F2} ms {total,7:F2} share {Share(total)} kind step"));
        output.WriteLine(string.Create(Inv, $"profile_ms_per_batch {total:F2}"));
        return Cli.ExitOk;
    }

    /// <summary>
    /// The timed loop both engines share: <paramref name="batches"/> steps over the loader (its epochs repeat as
    /// needed), the first <paramref name="warmup"/> untimed, then the closing lines (<see cref="Report"/>). A diverged
    /// loss is one line on stderr and exit 1.
    /// </summary>
    internal static int TimeSteps(DataLoader loader, int batches, int warmup, Func<Tensor<float>, int[], StepResult> step, long? macs,
        bool progress, TextWriter output, TextWriter error)
    {
        int done = 0, timedImages = 0, correct = 0;
        double firstLoss = double.NaN, lastLoss = double.NaN;
        var timed = new Stopwatch();
        var clock = Stopwatch.StartNew();
        try
        {
            while (done < batches)
            {
                foreach (var batch in loader.Epoch())
                {
                    if (done == warmup)
                    {
                        output.WriteLine(string.Create(Inv, $"warm-up {warmup} batches: {clock.Elapsed.TotalMilliseconds:F0} ms"));
                        timed.Start();
                    }
                    var r = step(batch.Images, batch.Labels);
                    done++;
                    if (done == 1) firstLoss = r.Loss;
                    lastLoss = r.Loss;
                    if (done > warmup)
                    {
                        timedImages += r.Count;
                        correct += r.Correct;
                    }
                    if (progress && done % 100 == 0 && done < batches)
                        output.WriteLine(string.Create(Inv, $"batch {done}/{batches} loss {r.Loss:F4} lr {r.LearningRate:G4}"));
                    if (done == batches) break;
                }
            }
        }
        catch (TrainingDivergedException e)
        {
            error.WriteLine($"era: bench: {e.Message}");
            return Cli.ExitFindings;
        }
        timed.Stop();
        Report(output, batches, warmup, firstLoss, lastLoss, correct, timedImages, timed.Elapsed.TotalSeconds, macs);
        return Cli.ExitOk;
    }

    /// <summary>
    /// The closing lines of a benchmark, the same for both engines (compare.sh reads them): the loss it went through,
    /// ms per timed batch, images/s, GFLOP/s when the model's MACs are known, and peak resident memory.
    /// </summary>
    internal static void Report(TextWriter output, int batches, int warmup, double firstLoss, double lastLoss, int correct, int timedImages,
        double seconds, long? macs)
    {
        int timedBatches = batches - warmup;
        output.WriteLine(string.Create(Inv, $"training: loss {firstLoss:F4} (batch 1) -> {lastLoss:F4} (batch {batches}), accuracy over timed batches {100.0 * correct / Math.Max(1, timedImages):F2} %"));
        output.WriteLine(string.Create(Inv, $"timed {timedBatches} batches in {seconds:F3} s"));
        // A training step costs about 3 forward passes (forward, backward to inputs, backward to weights), 2 FLOPs per
        // multiply-add: the direct-convolution count, whatever algorithm runs.
        double? gflops = macs is long m ? 6.0 * m * timedImages / seconds / 1e9 : null;
        if (gflops is double g && Peak.EngineIsa is { } engineIsa)
        {
            // The machine's measured FMA peak at this thread count, per ISA; the share against the widest the engine uses.
            var peaks = Peak.Isas().ToDictionary(isa => isa, isa => Peak.GigaflopsPerSecond(isa));
            foreach (var (isa, p) in peaks) output.WriteLine(string.Create(Inv, $"peak_gflops_{isa} {p:F1}"));
            output.WriteLine(string.Create(Inv, $"peak_gflops {peaks[engineIsa]:F1} ({engineIsa}, {Workers.Threads} threads)"));
            output.WriteLine(string.Create(Inv, $"share_of_peak {g / peaks[engineIsa]:F3}"));
        }
        output.WriteLine(string.Create(Inv, $"train_ms_per_batch {1000 * seconds / timedBatches:F2}"));
        output.WriteLine(string.Create(Inv, $"images_per_second {timedImages / seconds:F0}"));
        if (gflops is double f) output.WriteLine(string.Create(Inv, $"gflops {f:F2}"));
        output.WriteLine(string.Create(Inv, $"peak_rss_mb {PeakRssMegabytes():F0}"));
    }

    /// <summary>Peak resident memory: VmHWM from /proc/self/status on Linux, else the process's peak working set.</summary>
    internal static double PeakRssMegabytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return double.Parse(line[6..].Trim().Split(' ')[0], Inv) / 1024.0;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
