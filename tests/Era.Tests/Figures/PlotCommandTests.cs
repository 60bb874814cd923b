using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Era.Cli.Commands;
using Era.Figures;

namespace Era.Tests.Figures;

/// <summary>`era plot lr|network --out FILE`, run in-process (and once as a real process, for the environment variable).</summary>
[Collection("Chromium")]
public sealed class PlotCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-plot-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Era.Tests.Cli.CliRunner.Run(args);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>The figure JSON inside a handout page written by the CLI.</summary>
    private static JsonElement FigureInPage(string html)
    {
        var m = Regex.Match(html, @"^  var figure = (.*);$", RegexOptions.Multiline);
        Assert.True(m.Success, "no figure in the page");
        return JsonDocument.Parse(m.Groups[1].Value).RootElement;
    }

    [Fact]
    public void LrWritesAHandoutPageWithOneLinePerRate()
    {
        var (code, stdout, stderr) = Run("plot", "lr", "--preset", "era", "--lrs", "0.5,1", "--iterations", "40", "--log", "--out", PathOf("lr.html"));
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        Assert.Contains("lr.html", stdout);
        var figure = FigureInPage(File.ReadAllText(PathOf("lr.html")));
        var data = figure.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        Assert.Equal("η = 0.5", data[0].GetProperty("name").GetString());
        Assert.Equal(40, data[1].GetProperty("y").GetArrayLength());
        Assert.Equal("log", figure.GetProperty("layout").GetProperty("yaxis").GetProperty("type").GetString());
        Assert.Contains("t1 = 0.5, t2 = 0.5", figure.GetProperty("layout").GetProperty("title").GetProperty("text").GetString());
    }

    [Fact]
    public void LrGridDefaultsToTheCoursesSixRates()
    {
        var (code, _, stderr) = Run("plot", "lr", "--grid", "--out", PathOf("grid.html"), "--width", "900", "--height", "600");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var figure = FigureInPage(File.ReadAllText(PathOf("grid.html")));
        Assert.Equal(6, figure.GetProperty("data").GetArrayLength());
        Assert.Equal(181, figure.GetProperty("data")[5].GetProperty("x").GetArrayLength());
        Assert.Equal("x6", figure.GetProperty("data")[5].GetProperty("xaxis").GetString());
        Assert.Equal(900, figure.GetProperty("layout").GetProperty("width").GetInt32());
    }

    [Fact]
    public void NetworkWritesAPngOfTheRequestedSize()
    {
        var (code, _, stderr) = Run("plot", "network", "--biases", "0.35,0.6", "--out", PathOf("net.png"), "--width", "500", "--height", "320");
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        var png = Png.Decode(File.ReadAllBytes(PathOf("net.png")));
        Assert.Equal((500, 320), (png.Width, png.Height));
        Assert.True(png.BrightnessVariance() > 100);
    }

    [Fact]
    public void NetworkAfterTrainingShowsTheTrainedWeights()
    {
        // One step at η = 0.5 from the classic example (with biases 0.35, 0.6): w5 = 0.4 − 0.5 · 0.082167041 = 0.35891648 (Mazur, 2015).
        var (code, _, _) = Run("plot", "network", "--biases", "0.35,0.6", "--iterations", "1", "--out", PathOf("net.html"));
        Assert.Equal(0, code);
        var notes = FigureInPage(File.ReadAllText(PathOf("net.html"))).GetProperty("layout").GetProperty("annotations")
            .EnumerateArray().Select(a => a.GetProperty("text").GetString()).ToList();
        Assert.Contains("w5 = 0.3589", notes);
    }

    [Fact]
    public void LrWritesAnSvg()
    {
        var (code, _, stderr) = Run("plot", "lr", "--iterations", "20", "--out", PathOf("lr.svg"));
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        var svg = System.Xml.Linq.XDocument.Load(PathOf("lr.svg")).Root!;
        Assert.Equal("800", svg.Attribute("width")?.Value);  // the chart's own size
        Assert.Equal("500", svg.Attribute("height")?.Value);
    }

    [Theory]
    [InlineData("--out: unknown figure format '.jpg'", "plot", "lr", "--out", "FILE.jpg")]
    [InlineData("--out: required", "plot", "lr")]
    [InlineData("--width: must be between 50 and 10000 pixels, got 0", "plot", "network", "--width", "0", "--out", "FILE.png")]
    [InlineData("--height: 'tall' is not a whole number", "plot", "network", "--height", "tall", "--out", "FILE.png")]
    [InlineData("--lrs: every learning rate must be > 0, got -1", "plot", "lr", "--lrs", "0.5,-1", "--out", "FILE.html")]
    [InlineData("--preset: unknown value 'mazur' (expected one of: classic, era)", "plot", "network", "--preset", "mazur", "--out", "FILE.html")]
    [InlineData("unknown option '--lr' for `era plot lr`", "plot", "lr", "--lr", "0.5", "--out", "FILE.html")]
    [InlineData("--iterations: at most 100000 for a plot", "plot", "lr", "--iterations", "1000000", "--out", "FILE.png")]
    public void BadInputIsExitTwoWithAMessageAndNoFile(string message, params string[] args)
    {
        var (code, stdout, stderr) = Run(args.Select(a => a.Replace("FILE", PathOf("x"), StringComparison.Ordinal)).ToArray());
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("era: ", stderr);
        Assert.Contains(message, stderr);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task AMissingBrowserIsExitOneWithTheInstallHint()
    {
        // A real process, so that ERA_CHROMIUM applies to it alone.
        string dll = typeof(PlotCommand).Assembly.Location;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { dll, "plot", "lr", "--out", PathOf("lr.png") }) start.ArgumentList.Add(a);
        start.Environment["ERA_CHROMIUM"] = "/nonexistent/chromium";
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(limit.Token);
        Assert.Equal(1, p.ExitCode);
        Assert.Contains("era: plot: ERA_CHROMIUM points to '/nonexistent/chromium'", await stderr);
        Assert.Contains("apt-get install chromium", await stderr);
        Assert.Equal("", await stdout);
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
