using System.CommandLine;
using System.Runtime.CompilerServices;
using Era.Engine.Training;
using Era.Torch;

namespace Era.Cli.Commands;

/// <summary>
/// The options `era train`, `era bench` and `era evaluate` share, defined and checked once, and the engine they pick:
/// --engine era (the course's engine) or torchsharp (libtorch through TorchSharp, on --device). Both engines sit behind
/// <see cref="ITrainer"/>, so the verbs print the same lines and JSON for either. libtorch is not loaded unless
/// --engine torchsharp is given.
/// </summary>
internal sealed class EngineOptions
{
    public Option<string> Engine { get; } = TypedOptions.Choice("--engine", "era (the course's engine) or torchsharp (libtorch through TorchSharp)", ["era", "torchsharp"], "era");

    public Option<string?> Device { get; } = DeviceOption();

    public Option<int?> Threads { get; } = TypedOptions.OptionalInt("--threads", "Worker threads, 1 to 1024 (default: all processors)", 1, 1024);

    public Option<string?> Data { get; } = new("--data") { Description = "MNIST directory (default: $MNIST_DIR, then the cache data/mnist)" };

    private static Option<string?> DeviceOption()
    {
        var o = new Option<string?>("--device") { Description = "With --engine torchsharp: cpu or cuda (default: cuda when a GPU and a CUDA build are there, else cpu)" };
        o.AcceptOnlyFromAmong("cpu", "cuda");
        return o;
    }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Threads, Data, Engine, Device }) command.Options.Add(o);
    }

    /// <summary>Whether --engine torchsharp was given.</summary>
    public bool Torch(ParseResult parse) => parse.GetValue(Engine) == "torchsharp";

    /// <summary>The checks that need no work: --device only with torchsharp, --data an existing folder.</summary>
    public void Check(ParseResult parse)
    {
        if (!Torch(parse) && parse.GetValue(Device) is not null) throw new UsageException("--device", "only with --engine torchsharp");
        MnistData.CheckOption(parse.GetValue(Data));
    }

    /// <summary>--threads, else all processors.</summary>
    public int ThreadCount(ParseResult parse) => parse.GetValue(Threads) ?? Environment.ProcessorCount;

    /// <summary>
    /// Sets the thread count (and seed) of the chosen engine and returns its trainer factory for <see cref="TrainingRun"/>:
    /// null for era (TrainingRun's own), TorchTrainer's for torchsharp after loading libtorch (false and one line if it
    /// cannot) and picking the device.
    /// </summary>
    public bool Start(ParseResult parse, string verb, long seed, TextWriter error, out Func<Recipe, int, ITrainer>? engine)
    {
        int threads = ThreadCount(parse);
        if (threads > Environment.ProcessorCount)   // allowed (a shared machine may free cores), but never faster
            error.WriteLine($"{verb}: warning: --threads {threads} is more than the {Environment.ProcessorCount} processors here; the extra threads take turns on them and make each step slower, not faster");
        Era.Engine.torch.set_num_threads(threads);
        engine = null;
        return !Torch(parse) || StartTorch(verb, threads, seed, parse.GetValue(Device), error, out engine);
    }

    /// <summary>Only this method touches Era.Torch's types, so that the era engine never loads TorchSharp.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool StartTorch(string verb, int threads, long seed, string? deviceName, TextWriter error, out Func<Recipe, int, ITrainer>? engine)
    {
        engine = null;
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
        TorchSharp.torch.Device device;
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
        engine = TorchTrainer.Factory(device);
        return true;
    }

    /// <summary>
    /// Refuses, before any work, a batch whose step would not fit in memory (<see cref="Recipe.StepBytes"/> above 3/4 of
    /// what this process may use, <paramref name="availableBytes"/>: the GC's view of the machine's or container's memory
    /// by default), instead of swapping or being killed part way.
    /// </summary>
    public static void CheckMemory(Recipe recipe, long? availableBytes = null)
    {
        long available = availableBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long need = recipe.StepBytes(), budget = available / 4 * 3;
        if (need <= budget) return;
        long fit = Math.Max(1, (long)((double)budget / need * recipe.BatchSize));
        throw new UsageException("--batch-size", string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"a step of {recipe.BatchSize} images needs about {need / 1e9:F1} GB for its activations (torchsummary's estimate), more than 3/4 of the {available / 1e9:F1} GB this process may use; at most {fit} images per batch fit"));
    }

    /// <summary>The recipe's checks as the CLI's one-line usage errors, naming the option.</summary>
    public static Recipe Validate(Recipe recipe)
    {
        try
        {
            return recipe.Validate();
        }
        catch (InvalidRecipeException e)
        {
            throw new UsageException("--" + e.Field, e.Problem);
        }
    }
}
