using System.Diagnostics;
using Era.Figures;

namespace Era.Tests.Figures;

/// <summary>Finding, starting and stopping the browser: clear errors when it is missing or slow, nothing left behind.</summary>
[Collection("Chromium")]
public class BrowserLifecycleTests
{
    private static string[] LeftoverProfiles() =>
        Directory.GetDirectories(Path.GetTempPath(), $"era-chromium-{Environment.ProcessId}-*");

    [Fact]
    public void AMissingBrowserNamedByTheEnvironmentVariableIsAClearError()
    {
        var e = Assert.Throws<FigureRenderException>(() =>
            ChromiumRenderer.FindBrowser(null, name => name == "ERA_CHROMIUM" ? "/nonexistent/chromium" : null));
        Assert.Contains("ERA_CHROMIUM points to '/nonexistent/chromium'", e.Message);
        Assert.Contains("apt-get install chromium", e.Message);
    }

    [Fact]
    public void NoBrowserOnPathIsAClearError()
    {
        string empty = Directory.CreateTempSubdirectory("era-path-").FullName;
        try
        {
            var e = Assert.Throws<FigureRenderException>(() => ChromiumRenderer.FindBrowser(null, name => name == "PATH" ? empty : null));
            Assert.Contains("not found on PATH", e.Message);
            Assert.Contains("apt-get install chromium", e.Message);
            Assert.Contains("ERA_CHROMIUM", e.Message);
        }
        finally { Directory.Delete(empty); }
    }

    [Fact]
    public void TheBrowserIsFoundOnPathOrThroughTheVariable()
    {
        string found = ChromiumRenderer.FindBrowser();
        Assert.True(File.Exists(found), found);
        Assert.Equal(found, ChromiumRenderer.FindBrowser(null, name => name == "ERA_CHROMIUM" ? found : null));
    }

    [Fact]
    public void StartingWithAMissingBrowserFailsFastWithTheInstallHint()
    {
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<FigureRenderException>(() => ChromiumRenderer.Start(new ChromiumOptions { BrowserPath = "/nonexistent/chromium" }));
        Assert.Contains("apt-get install chromium", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void AStartTimeoutIsAClearErrorAndLeavesNothingBehind()
    {
        var before = LeftoverProfiles();
        var e = Assert.Throws<FigureRenderException>(() => ChromiumRenderer.Start(new ChromiumOptions { StartTimeout = TimeSpan.FromMilliseconds(1) }));
        Assert.Contains("did not start and load plotly.js within 0.001 s", e.Message);
        Assert.Equal(before, LeftoverProfiles());
    }

    [Fact]
    public void DisposingClosesTheBrowserAndDeletesItsProfile()
    {
        var sw = Stopwatch.StartNew();
        var renderer = ChromiumRenderer.Start();
        double started = sw.Elapsed.TotalSeconds;
        var png = Png.Decode(renderer.Export(RenderTests.Build("lr"), ImageFormat.Png, 800, 500));
        double exported = sw.Elapsed.TotalSeconds;
        Assert.Equal(800, png.Width);
        Assert.True(Directory.Exists(renderer.ProfileDirectory));
        Assert.True(renderer.IsRunning);
        renderer.Dispose();
        Assert.False(renderer.IsRunning);
        Assert.False(Directory.Exists(renderer.ProfileDirectory));
        Assert.Throws<ObjectDisposedException>(() => renderer.Export(RenderTests.Build("lr"), ImageFormat.Png));
        // The budget: a PNG in under 5 s including the browser's start.
        Assert.True(exported < 5, $"start {started:0.00} s, start + PNG export {exported:0.00} s (budget 5 s)");
    }
}
