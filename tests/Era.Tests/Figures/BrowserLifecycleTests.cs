using System.Diagnostics;
using System.Runtime.InteropServices;
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
        var e = Assert.Throws<FigureRenderException>(() => ChromiumRenderer.Start(new ChromiumOptions { BrowserPath = "/nonexistent/chromium" }));
        Assert.Contains("apt-get install chromium", e.Message);
    }

    [Fact]
    public void ABrowserThatFailsToStartIsReportedWithWhatItSaid()
    {
        string fake = Path.Combine(Path.GetTempPath(), $"era-fake-browser-{Guid.NewGuid():N}.sh");
        // Whatever a browser says when it cannot start (each Chromium words it its own way), its exit code and its last
        // line on stderr reach our message: a fake browser with words of its own.
        string words = $"no display here ({Guid.NewGuid():N})";
        File.WriteAllText(fake, $"#!/bin/sh\necho 'starting' >&2\necho '{words}' >&2\nexit 3\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var before = LeftoverProfiles();
        try
        {
            var e = Assert.Throws<FigureRenderException>(() => ChromiumRenderer.Start(new ChromiumOptions { BrowserPath = fake }));
            Assert.Contains("exited during start-up with code 3", e.Message);
            Assert.Contains(words, e.Message);
            Assert.Equal(before, LeftoverProfiles());
        }
        finally { File.Delete(fake); }
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
    public void AStartThatHangsIsTriedOnceMoreWithAFreshBrowser()
    {
        // A browser that hangs on its first start (never announces DevTools) and is the real Chromium on the second.
        string real = ChromiumRenderer.FindBrowser(null);
        string fake = Path.Combine(Path.GetTempPath(), $"era-hanging-browser-{Guid.NewGuid():N}.sh"), marker = fake + ".started";
        File.WriteAllText(fake, $"#!/bin/sh\nif [ ! -e '{marker}' ]; then touch '{marker}'; exec sleep 60; fi\nexec '{real}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var before = LeftoverProfiles();
        try
        {
            using (var renderer = ChromiumRenderer.Start(new ChromiumOptions { BrowserPath = fake, StartTimeout = TimeSpan.FromSeconds(30) }))
            {
                Assert.True(File.Exists(marker));   // the first start ran and hung
                Assert.True(renderer.IsRunning);
            }
            Assert.Equal(before, LeftoverProfiles());
        }
        finally
        {
            File.Delete(fake);
            File.Delete(marker);
        }
    }

    [Fact]
    public void DisposingClosesTheBrowserAndDeletesItsProfile()
    {
        var renderer = ChromiumRenderer.Start();
        Assert.True(Directory.Exists(renderer.ProfileDirectory));
        Assert.True(renderer.IsRunning);
        renderer.Dispose();
        Assert.False(renderer.IsRunning);
        Assert.False(Directory.Exists(renderer.ProfileDirectory));
        Assert.Throws<ObjectDisposedException>(() => renderer.Export(RenderTests.Build("lr"), ImageFormat.Png));
    }

    [Fact]
    public void ABrowserThatDiedIsAClearErrorNotACrash()
    {
        using var renderer = ChromiumRenderer.Start();
        using (var browser = Process.GetProcessById(renderer.ProcessId))
        {
            browser.Kill(entireProcessTree: true);
            browser.WaitForExit(5000);
        }
        var e = Assert.Throws<FigureRenderException>(() => renderer.Export(RenderTests.Build("lr"), ImageFormat.Png));
        Assert.Contains("export the figure as PNG", e.Message);
    }

    [Fact]
    public void AFreshBrowserExportsAPngOfTheRequestedSize()
    {
        // Speed is measured by benchmarks, not asserted here: the suite runs on busy machines.
        using var renderer = ChromiumRenderer.Start();
        var png = Png.Decode(renderer.Export(RenderTests.Build("lr"), ImageFormat.Png, 800, 500));
        Assert.Equal((800, 500), (png.Width, png.Height));
        Assert.True(png.BrightnessVariance() > 100, $"brightness variance {png.BrightnessVariance():0.0}: blank?");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private static int[] ChildrenOf(int pid) =>
        Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(int.Parse!)
            .Where(p =>
            {
                try
                {
                    string stat = File.ReadAllText($"/proc/{p}/stat");
                    return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]) == pid;  // field 4: the parent
                }
                catch (IOException) { return false; }
            }).ToArray();

    [Fact(Skip = "intermittent on the loaded 2-core machine (about 1 run in 5 of this class): the cause is not found yet; passes alone")]
    public async Task SigtermEndsTheBrowserEvenWhileItStarts()
    {
        if (!OperatingSystem.IsLinux()) return;
        // era plot in a real process; SIGTERM while its browser starts (or draws): the browser and its profile go too.
        string dir = Directory.CreateTempSubdirectory("era-sigterm-").FullName;
        try
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { typeof(Era.Cli.Cli).Assembly.Location, "plot", "lr", "--grid", "--iterations", "100000", "--out", Path.Combine(dir, "lr.png") })
                start.ArgumentList.Add(a);
            using var era = Process.Start(start)!;
            _ = era.StandardOutput.ReadToEndAsync();
            _ = era.StandardError.ReadToEndAsync();
            int[] browsers = [];
            for (int i = 0; i < 1200 && browsers.Length == 0 && !era.HasExited; i++)
            {
                await Task.Delay(50);
                browsers = ChildrenOf(era.Id);
            }
            Assert.True(browsers.Length > 0, "era plot started no browser");
            await Task.Delay(300);  // the browser is starting, or era is drawing in it
            Assert.False(era.HasExited, "era plot finished before it could be stopped");
            Assert.Equal(0, kill(era.Id, 15));
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await era.WaitForExitAsync(limit.Token);
            Assert.NotEqual(0, era.ExitCode);
            for (int i = 0; i < 100 && browsers.Any(p => Directory.Exists($"/proc/{p}")); i++) await Task.Delay(50);
            Assert.DoesNotContain(browsers, p => Directory.Exists($"/proc/{p}") && !File.ReadAllText($"/proc/{p}/stat").Contains(") Z ", StringComparison.Ordinal));
            Assert.Empty(Directory.GetDirectories(Path.GetTempPath(), $"era-chromium-{era.Id}-*"));
            Assert.False(File.Exists(Path.Combine(dir, "lr.png")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
