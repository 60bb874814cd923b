namespace Era.Tests.Cli;

/// <summary>--out into a folder that does not exist yet (one rule for every verb: created, and era says so), and
/// `plot network --iterations`, whose 0 is what the default draws.</summary>
public sealed class OutputFolderAndStepsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-out-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("excel", "a/b/course.xlsx", "--iterations", "3")]
    [InlineData("plot", "a/b/lr.html", "lr", "--iterations", "3")]
    [InlineData("plot", "a/b/net.html", "network")]
    public void AMissingFolderIsCreatedAndSaid(string verb, string relative, params string[] rest)
    {
        string path = Path.Combine(_dir, relative);
        string[] args = verb == "plot" ? [verb, rest[0], .. rest[1..], "--out", path] : [verb, .. rest, "--out", path];
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal((0, ""), (code, stderr));
        string folder = Path.GetDirectoryName(path)!;
        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal($"created folder {folder}", lines[0]);
        Assert.StartsWith($"wrote {path}", lines[1], StringComparison.Ordinal);
        Assert.True(File.Exists(path));

        // The folder now exists: nothing to say the second time.
        (code, stdout, _) = CliRunner.Run(args);
        Assert.Equal(0, code);
        Assert.DoesNotContain("created folder", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void PlotNetworkWithZeroIterationsIsTheDefaultPicture()
    {
        string byDefault = Path.Combine(_dir, "default.html");
        string zero = Path.Combine(_dir, "zero.html");
        Assert.Equal(0, CliRunner.Run("plot", "network", "--out", byDefault).Code);
        var (code, _, stderr) = CliRunner.Run("plot", "network", "--iterations", "0", "--out", zero);
        Assert.Equal((0, ""), (code, stderr));
        Assert.Equal(File.ReadAllText(byDefault), File.ReadAllText(zero));

        string one = Path.Combine(_dir, "one.html");
        Assert.Equal(0, CliRunner.Run("plot", "network", "--iterations", "1", "--out", one).Code);
        Assert.NotEqual(File.ReadAllText(byDefault), File.ReadAllText(one));
    }

    [Fact]
    public void PlotNetworkHelpSaysWhatTheDefaultDraws()
    {
        var (code, stdout, _) = CliRunner.Run("plot", "network", "--help");
        Assert.Equal(0, code);
        Assert.Contains("default 0: the initial weights", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("rows in the table", stdout, StringComparison.Ordinal);
        var (bad, _, stderr) = CliRunner.Run("plot", "network", "--iterations", "-1", "--out", Path.Combine(_dir, "x.html"));
        Assert.Equal(2, bad);
        Assert.Equal("era: --iterations: must be ≥ 0, got -1\n", stderr);
    }
}
