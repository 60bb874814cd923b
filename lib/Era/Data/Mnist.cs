using System.Security.Cryptography;
using Era.Engine;
using Era.IO;

namespace Era.Data;

/// <summary>Where to find (or put) MNIST and how to download it. Every property has a working default.</summary>
public sealed class MnistOptions
{
    /// <summary>The directory holding the four files; overrides MNIST_DIR and the cache. Never downloaded into.</summary>
    public string? Directory { get; init; }

    /// <summary>The value of MNIST_DIR (read when the options are created; tests set it explicitly).</summary>
    public string? EnvironmentDirectory { get; init; } = Environment.GetEnvironmentVariable(Mnist.EnvironmentVariable);

    /// <summary>The download cache, used when neither Directory nor MNIST_DIR is set (default: data/mnist in the repository).</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Whether the training files are needed too; without them (evaluation) only the two test files are
    /// located or downloaded.</summary>
    public bool TrainingSplit { get; init; } = true;

    /// <summary>Try the mirrors when the cache lacks files.</summary>
    public bool Download { get; init; } = true;

    /// <summary>Base URLs tried in order for each file.</summary>
    public IReadOnlyList<string> Mirrors { get; init; } = Mnist.DefaultMirrors;

    /// <summary>For tests: an HTTP handler standing in for the network (a fake mirror).</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Time limit for each request.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Progress messages (which mirror, which file), or null for none.</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>
/// The MNIST digits (LeCun, Cortes, Burges): 60,000 training and 10,000 test images, 28×28 grey levels, with labels.
/// The directory is taken from, in order: the explicit option (e.g. --data DIR), the environment variable MNIST_DIR,
/// the cache data/mnist in the repository (downloaded from a mirror when missing, md5-checked, written atomically).
/// Images are normalized as the PyTorch recipe: (x/255 − 0.1307)/0.3081, shape [N, 1, 28, 28].
/// </summary>
public static class Mnist
{
    public const string EnvironmentVariable = "MNIST_DIR";
    public const float Mean = 0.1307f;
    public const float Std = 0.3081f;
    public const int ImageSize = 28;
    public const int Classes = 10;

    public static readonly IReadOnlyList<string> DefaultMirrors =
    [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ];

    /// <summary>The four files and the md5 of each compressed file, as distributed.</summary>
    public static readonly IReadOnlyList<(string File, string Md5)> Files =
    [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ];

    /// <summary>Loads both splits.</summary>
    public static (TensorDataset Train, TensorDataset Test) Load(MnistOptions? options = null)
    {
        string dir = Locate(options ?? new MnistOptions());
        return (LoadSplit(dir, train: true), LoadSplit(dir, train: false));
    }

    /// <summary>Loads the training (60,000) or test (10,000) split from <paramref name="directory"/>.</summary>
    public static TensorDataset LoadSplit(string directory, bool train)
    {
        string prefix = train ? "train" : "t10k";
        string imagesPath = FindFile(directory, $"{prefix}-images-idx3-ubyte");
        string labelsPath = FindFile(directory, $"{prefix}-labels-idx1-ubyte");
        var images = Idx.Read(imagesPath);
        var labels = Idx.Read(labelsPath);
        if (images.Dims.Length != 3 || images.Dims[1] != ImageSize || images.Dims[2] != ImageSize)
            throw new DataFormatException($"{imagesPath}: expected images N x 28 x 28, found {string.Join(" x ", images.Dims)}");
        if (labels.Dims.Length != 1)
            throw new DataFormatException($"{labelsPath}: expected one dimension of labels, found {string.Join(" x ", labels.Dims)}");
        if (labels.Count != images.Count)
            throw new DataFormatException($"{labelsPath}: {labels.Count} labels but {imagesPath} has {images.Count} images");
        var y = new int[labels.Count];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = labels.Data[i];
            if (y[i] >= Classes) throw new DataFormatException($"{labelsPath}: label {y[i]} at index {i} is not a digit 0-9");
        }
        return new TensorDataset(Normalize(images.Data, images.Count), y, train ? "mnist-train" : "mnist-test");
    }

    /// <summary>Grey levels 0..255 to normalized floats [N, 1, 28, 28], in float arithmetic as the PyTorch recipe.</summary>
    public static Tensor<float> Normalize(byte[] pixels, int count)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        Span<float> table = stackalloc float[256];
        for (int v = 0; v < 256; v++) table[v] = ((float)v / 255f - Mean) / Std;
        var x = new float[pixels.Length];
        for (int i = 0; i < x.Length; i++) x[i] = table[pixels[i]];
        return new Tensor<float>(x, count, 1, ImageSize, ImageSize);
    }

    /// <summary>Which directory to use and why: explicit &gt; MNIST_DIR &gt; cache.</summary>
    public static (string Directory, string Source) ResolveDirectory(string? explicitDirectory, string? environmentDirectory, string cacheDirectory)
    {
        if (!string.IsNullOrWhiteSpace(explicitDirectory)) return (explicitDirectory, "option");
        if (!string.IsNullOrWhiteSpace(environmentDirectory)) return (environmentDirectory, EnvironmentVariable);
        return (cacheDirectory, "cache");
    }

    /// <summary>The default cache: data/mnist in the repository holding the current directory (or the program), else ./data/mnist.</summary>
    public static string DefaultCacheDirectory()
    {
        foreach (string start in new[] { System.IO.Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Era.sln"))) return Path.Combine(dir.FullName, "data", "mnist");
        return Path.GetFullPath(Path.Combine("data", "mnist"));
    }

    /// <summary>
    /// Returns a directory holding all four files (the two test files without <see cref="MnistOptions.TrainingSplit"/>).
    /// An explicit directory or MNIST_DIR must already hold them; the cache is filled from the mirrors when files are
    /// missing.
    /// </summary>
    public static string Locate(MnistOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (dir, source) = ResolveDirectory(options.Directory, options.EnvironmentDirectory,
            options.CacheDirectory ?? DefaultCacheDirectory());
        var missing = Files.Where(f => (options.TrainingSplit || f.File.StartsWith("t10k", StringComparison.Ordinal)) && TryFindFile(dir, f.File[..^3]) is null).ToList();
        if (missing.Count == 0) return dir;
        if (source != "cache")
        {
            string from = source == "option" ? "the given data directory" : $"{EnvironmentVariable}";
            throw new FileNotFoundException($"MNIST: {from} {dir} lacks {string.Join(", ", missing.Select(f => f.File))} (gzip or uncompressed)");
        }
        if (!options.Download)
            throw new FileNotFoundException($"MNIST: the cache {dir} lacks {string.Join(", ", missing.Select(f => f.File))}; set {EnvironmentVariable} to a directory holding the four MNIST files");
        Download(dir, missing, options);
        return dir;
    }

    /// <summary>
    /// Downloads the files into <paramref name="directory"/>, each from the first mirror that delivers the expected
    /// md5, written atomically. Throws with every attempt listed, and the hint to set MNIST_DIR, if none works.
    /// </summary>
    public static void Download(string directory, IEnumerable<(string File, string Md5)> files, MnistOptions options)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(options);
        using var client = options.HttpHandler is null ? new HttpClient() : new HttpClient(options.HttpHandler, disposeHandler: false);
        client.Timeout = options.Timeout;
        client.MaxResponseContentBufferSize = 64 << 20;
        foreach (var (file, md5) in files)
        {
            var failures = new List<string>();
            bool done = false;
            foreach (string mirror in options.Mirrors)
            {
                string url = mirror.TrimEnd('/') + "/" + file;
                options.Log?.WriteLine($"MNIST: downloading {url}");
                try
                {
                    byte[] bytes = client.GetByteArrayAsync(new Uri(url)).ConfigureAwait(false).GetAwaiter().GetResult();
                    string actual = Convert.ToHexString(MD5.HashData(bytes)).ToLowerInvariant();
                    if (actual != md5)
                    {
                        failures.Add($"{url}: md5 {actual}, expected {md5}");
                        continue;
                    }
                    AtomicFile.WriteAllBytes(Path.Combine(directory, file), bytes);
                    done = true;
                    break;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or UriFormatException or InvalidOperationException)
                {
                    failures.Add($"{url}: {(e is TaskCanceledException ? $"timed out after {options.Timeout.TotalSeconds:0} s" : e.Message)}");
                }
            }
            if (!done)
                throw new FileNotFoundException(
                    $"MNIST: could not download {file} into {directory}; tried:\n  {string.Join("\n  ", failures)}\n" +
                    $"Download the four MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, " +
                    $"t10k-labels-idx1-ubyte.gz) by other means and set {EnvironmentVariable}=/path/to/that/directory (or pass --data DIR).");
        }
    }

    private static string FindFile(string directory, string stem) =>
        TryFindFile(directory, stem) ?? throw new FileNotFoundException($"MNIST: {stem}.gz (or {stem}) not found in {directory}");

    /// <summary>The file stem.gz or stem, in the directory or in torchvision's layout MNIST/raw.</summary>
    private static string? TryFindFile(string directory, string stem)
    {
        foreach (string dir in new[] { directory, Path.Combine(directory, "MNIST", "raw") })
            foreach (string name in new[] { stem + ".gz", stem })
                if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }
}
