using Era.Data;

namespace Era.Cli.Commands;

/// <summary>Finding and loading MNIST for the training verbs (bench, train), with the same errors in both.</summary>
internal static class MnistData
{
    /// <summary>Checks --data before any work: a given directory must exist.</summary>
    public static void CheckOption(string? dataDir)
    {
        if (dataDir is not null && !Directory.Exists(dataDir)) throw new UsageException("--data", $"directory '{dataDir}' does not exist");
    }

    /// <summary>
    /// Locates (--data, then MNIST_DIR, then the cache, downloading into it) and loads both splits. Missing files are a
    /// usage error on --data; a corrupt file is reported as "era: VERB: ..." and the result is false (exit 1).
    /// </summary>
    public static bool TryLoad(string verb, string? dataDir, TextWriter error, out string directory, out TensorDataset train, out TensorDataset test)
    {
        bool loaded = TryLoad(verb, dataDir, error, trainingSplit: true, out directory, out var both, out test);
        train = both!;
        return loaded;
    }

    /// <summary>The test split only (evaluate): the training files are neither needed nor downloaded.</summary>
    public static bool TryLoadTest(string verb, string? dataDir, TextWriter error, out string directory, out TensorDataset test) =>
        TryLoad(verb, dataDir, error, trainingSplit: false, out directory, out _, out test);

    private static bool TryLoad(string verb, string? dataDir, TextWriter error, bool trainingSplit, out string directory, out TensorDataset? train, out TensorDataset test)
    {
        try
        {
            directory = Mnist.Locate(new MnistOptions { Directory = dataDir, Log = error, TrainingSplit = trainingSplit });
            train = trainingSplit ? Mnist.LoadSplit(directory, train: true) : null;
            test = Mnist.LoadSplit(directory, train: false);
            return true;
        }
        catch (FileNotFoundException e)
        {
            // Blamed on what named the folder: --data, else MNIST_DIR when set.
            bool fromEnvironment = dataDir is null && !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Mnist.EnvironmentVariable));
            throw new UsageException(fromEnvironment ? Mnist.EnvironmentVariable : "--data", e.Message);
        }
        catch (DataFormatException e)
        {
            error.WriteLine($"era: {verb}: {e.Message}");
            directory = "";
            train = test = null!;
            return false;
        }
    }
}
