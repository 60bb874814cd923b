using System.Net;
using System.Text;
using Era.Data;

namespace Era.Tests.Data;

/// <summary>A fake mirror: answers each URL from a table (bytes, or an HTTP status), records what was asked.</summary>
internal sealed class FakeMirror(Dictionary<string, object> responses) : HttpMessageHandler
{
    public List<string> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string url = request.RequestUri!.ToString();
        lock (Requests) Requests.Add(url);
        switch (responses.GetValueOrDefault(url))
        {
            case byte[] bytes:
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(bytes) };
            case TimeSpan delay:
                await Task.Delay(delay, cancellationToken);
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
            case HttpStatusCode status:
                return new HttpResponseMessage(status);
            default:
                throw new HttpRequestException($"Name or service not known ({request.RequestUri!.Host})");
        }
    }
}

public sealed class MnistTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-mnist-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadsAndNormalizesTinyFiles(bool gzip)
    {
        IdxFiles.WriteMnist(_dir, "train", 3, gzip);
        var ds = Mnist.LoadSplit(_dir, train: true);
        Assert.Equal([3, 1, 28, 28], ds.Images.Shape);
        Assert.Equal([0, 1, 2], ds.Labels);
        // pixel 0: (0 − 0.1307)/0.3081 = −0.424212917...; image 1 row 27 col 27 is 55: (55/255 − 0.1307)/0.3081 = 0.27583990...
        Assert.Equal(-0.4242129178838039, ds.Images.Data[0], 6);
        Assert.Equal(0.2758399042836869, ds.Images.Data[784 + 27 * 28 + 27], 6);
    }

    [Fact]
    public void NormalizesLikeThePyTorchRecipe()
    {
        var t = Mnist.Normalize(new byte[784 * 2], 2).Data;
        Assert.Equal(1568, t.Length);
        t = Mnist.Normalize([.. new byte[] { 0, 255, 128 }, .. new byte[781]], 1).Data;
        Assert.Equal(-0.42421292f, t[0], 6);
        Assert.Equal(2.8214867f, t[1], 6);   // (1 − 0.1307)/0.3081
        Assert.Equal(1.2050009f, t[2], 6);   // (128/255 − 0.1307)/0.3081
    }

    [Fact]
    public void LabelOutOfRangeNamesTheFile()
    {
        IdxFiles.WriteMnist(_dir, "t10k", 2, gzip: true, labelOffset: 9); // labels 9 and 10
        var e = Assert.Throws<DataFormatException>(() => Mnist.LoadSplit(_dir, train: false));
        Assert.Contains("t10k-labels-idx1-ubyte.gz: label 10 at index 1", e.Message);
    }

    [Fact]
    public void LabelCountMustMatchImageCount()
    {
        IdxFiles.WriteMnist(_dir, "t10k", 3, gzip: false, labelCount: 2);
        var e = Assert.Throws<DataFormatException>(() => Mnist.LoadSplit(_dir, train: false));
        Assert.Contains("2 labels but", e.Message);
    }

    [Fact]
    public void DirectoryPrecedenceIsOptionThenEnvironmentThenCache()
    {
        Assert.Equal(("/a", "option"), Mnist.ResolveDirectory("/a", "/b", "/c"));
        Assert.Equal(("/b", "MNIST_DIR"), Mnist.ResolveDirectory(null, "/b", "/c"));
        Assert.Equal(("/c", "cache"), Mnist.ResolveDirectory("", " ", "/c"));
    }

    [Fact]
    public void ExplicitDirectoryWithoutTheFilesSaysWhichAreMissing()
    {
        IdxFiles.WriteMnist(_dir, "train", 1, gzip: true);
        var e = Assert.Throws<FileNotFoundException>(() => Mnist.Locate(new MnistOptions { Directory = _dir }));
        Assert.Contains(_dir, e.Message);
        Assert.Contains("t10k-images-idx3-ubyte.gz", e.Message);
        Assert.DoesNotContain("train-images", e.Message);
    }

    [Fact]
    public void MnistDirIsUsedWhenNoDirectoryIsGivenAndNeverDownloadedInto()
    {
        var mirror = new FakeMirror([]);
        var e = Assert.Throws<FileNotFoundException>(() => Mnist.Locate(new MnistOptions { EnvironmentDirectory = _dir, HttpHandler = mirror }));
        Assert.StartsWith($"MNIST: MNIST_DIR {_dir} lacks train-images-idx3-ubyte.gz", e.Message);
        Assert.Empty(mirror.Requests);
        IdxFiles.WriteMnist(_dir, "train", 2, gzip: true);
        IdxFiles.WriteMnist(_dir, "t10k", 2, gzip: true);
        Assert.Equal(_dir, Mnist.Locate(new MnistOptions { EnvironmentDirectory = _dir, CacheDirectory = "/nonexistent" }));
    }

    [Fact]
    public void LoadsBothSplitsFromAnExplicitDirectory()
    {
        IdxFiles.WriteMnist(_dir, "train", 5, gzip: true);
        IdxFiles.WriteMnist(_dir, "t10k", 2, gzip: false);
        var (train, test) = Mnist.Load(new MnistOptions { Directory = _dir, Download = false });
        Assert.Equal(5, train.Count);
        Assert.Equal(2, test.Count);
    }

    // md5("abc") = 900150983cd24fb0d6963f7d28e17f72 (RFC 1321 test suite).
    private static readonly byte[] Abc = Encoding.ASCII.GetBytes("abc");
    private const string AbcMd5 = "900150983cd24fb0d6963f7d28e17f72";

    [Fact]
    public void DownloadFallsBackThroughMirrorsAndChecksMd5()
    {
        var mirror = new FakeMirror(new()
        {
            ["https://one.example/mnist/f.gz"] = HttpStatusCode.NotFound,
            ["https://two.example/mnist/f.gz"] = Encoding.ASCII.GetBytes("abd"), // wrong content: md5 differs
            ["https://three.example/mnist/f.gz"] = Abc,
        });
        var options = new MnistOptions
        {
            Mirrors = ["https://one.example/mnist/", "https://two.example/mnist", "https://three.example/mnist/"],
            HttpHandler = mirror,
        };
        Mnist.Download(_dir, [("f.gz", AbcMd5)], options);
        Assert.Equal(Abc, File.ReadAllBytes(Path.Combine(_dir, "f.gz")));
        Assert.Equal(3, mirror.Requests.Count);
        Assert.Single(Directory.GetFiles(_dir)); // no temporary files left
    }

    [Fact]
    public void WhenNoMirrorWorksTheMessageListsThemAndPointsToMnistDir()
    {
        var mirror = new FakeMirror(new()
        {
            ["https://two.example/f.gz"] = Encoding.ASCII.GetBytes("abd"),
            ["https://slow.example/f.gz"] = TimeSpan.FromSeconds(30),
        });
        var options = new MnistOptions
        {
            Mirrors = ["https://down.example/", "https://two.example/", "https://slow.example/"],
            HttpHandler = mirror,
            Timeout = TimeSpan.FromMilliseconds(300),
        };
        var e = Assert.Throws<FileNotFoundException>(() => Mnist.Download(_dir, [("f.gz", AbcMd5)], options));
        Assert.Contains("https://down.example/f.gz: Name or service not known", e.Message);
        Assert.Contains("https://two.example/f.gz: md5 ", e.Message);
        Assert.Contains("https://slow.example/f.gz: timed out", e.Message);
        Assert.Contains("MNIST_DIR", e.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void EmptyCacheTriesTheRealFileNamesOnEveryMirror()
    {
        var mirror = new FakeMirror([]);
        string cache = Path.Combine(_dir, "cache");
        var options = new MnistOptions
        {
            EnvironmentDirectory = null, // as if MNIST_DIR were unset
            CacheDirectory = cache,
            HttpHandler = mirror,
            Mirrors = ["https://m1.example/", "https://m2.example/x/"],
        };
        var e = Assert.Throws<FileNotFoundException>(() => Mnist.Locate(options));
        Assert.Contains("set MNIST_DIR", e.Message);
        Assert.Equal(["https://m1.example/train-images-idx3-ubyte.gz", "https://m2.example/x/train-images-idx3-ubyte.gz"], mirror.Requests);
    }
}
