using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Era.IO;
using PuppeteerSharp;

namespace Era.Figures;

public enum ImageFormat { Png, Svg }

/// <summary>How to start the browser. Null paths are looked up (ERA_CHROMIUM or PATH; lib/web for plotly.js).</summary>
public sealed record ChromiumOptions
{
    public string? BrowserPath { get; init; }
    public string? PlotlyJsPath { get; init; }
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60); // a loaded 2-core machine can take over 30 s
    public TimeSpan RenderTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>What plotly.js made of a figure in the browser: the traces it drew, attributes it rejected, console errors.</summary>
public sealed record RenderCheck(
    int TraceCount,
    IReadOnlyList<string?> TraceNames,
    IReadOnlyList<string> TraceTypes,
    IReadOnlyList<string> InvalidAttributes,
    IReadOnlyList<string> ConsoleErrors);

/// <summary>
/// The system's headless Chromium with plotly.js loaded, driven by PuppeteerSharp: exports figures to PNG/SVG with
/// plotly.js's own <c>Plotly.toImage</c>. Start one, export as many figures as needed, dispose it: disposing
/// closes the browser and deletes its temporary profile. Every wait has a timeout, so a stuck render is an error,
/// not a hang, and the browser stays usable for the next figure. Not thread-safe: one export at a time.
/// </summary>
public sealed class ChromiumRenderer : IDisposable
{
    /// <summary>Environment variable naming the browser executable when it is not on PATH as `chromium`.</summary>
    public const string BrowserVariable = "ERA_CHROMIUM";

    public const string InstallHint = "install it (Debian/Ubuntu: `apt-get install chromium`) or set ERA_CHROMIUM to the browser's executable";

    /// <summary>Headless, no sandbox (containers run as root), and nothing that talks to the network on its own.</summary>
    public static IReadOnlyList<string> Flags { get; } =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        "--disable-extensions", "--disable-default-apps", "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
        // No crash reporter: its handler processes double-fork out of the browser's process tree and outlive it.
        "--disable-crash-reporter", "--disable-breakpad",
        "--remote-debugging-port=0",
    ];

    private static readonly string[] BrowserNames = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"];

    private readonly Process _process;
    private readonly List<PosixSignalRegistration> _signals;
    private readonly Queue<string> _stderr = new();
    private IBrowser? _browser;
    private IPage _page = null!;
    private readonly List<string> _consoleErrors = [];
    private readonly object _disposing = new();
    private volatile bool _disposed;

    public string BrowserPath { get; }

    /// <summary>The temporary --user-data-dir; deleted on <see cref="Dispose"/>.</summary>
    public string ProfileDirectory { get; }

    public TimeSpan RenderTimeout { get; set; }

    /// <summary>plotly.js's version as the browser reports it.</summary>
    public string PlotlyVersion { get; private set; } = "";

    /// <summary>The browser, for opening other pages in it (tests of handout pages, notebook outputs).</summary>
    internal IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser is not connected");

    private ChromiumRenderer(string browserPath, string profile, Process process, TimeSpan renderTimeout, List<PosixSignalRegistration> signals)
    {
        _signals = signals;
        BrowserPath = browserPath;
        ProfileDirectory = profile;
        _process = process;
        RenderTimeout = renderTimeout;
    }

    /// <summary>Finds the browser: an explicit path, else $ERA_CHROMIUM, else chromium (or Chrome) on PATH.</summary>
    public static string FindBrowser(string? explicitPath = null) => FindBrowser(explicitPath, Environment.GetEnvironmentVariable);

    internal static string FindBrowser(string? explicitPath, Func<string, string?> environment)
    {
        if (!string.IsNullOrEmpty(explicitPath))
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath)
                : throw new FigureRenderException($"Chromium not found at '{explicitPath}': {InstallHint}");
        if (environment(BrowserVariable) is { Length: > 0 } fromEnv)
            return File.Exists(fromEnv) ? Path.GetFullPath(fromEnv)
                : throw new FigureRenderException($"{BrowserVariable} points to '{fromEnv}', which does not exist: {InstallHint}");
        foreach (var dir in (environment("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var name in BrowserNames)
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        throw new FigureRenderException($"Chromium was not found on PATH: {InstallHint}");
    }

    public static ChromiumRenderer Start(ChromiumOptions? options = null) => StartAsync(options).GetAwaiter().GetResult();

    /// <summary>Starts the browser and loads plotly.js into a blank page; throws <see cref="FigureRenderException"/> with the fix when something is missing.</summary>
    public static async Task<ChromiumRenderer> StartAsync(ChromiumOptions? options = null, CancellationToken ct = default)
    {
        options ??= new ChromiumOptions();
        string browserPath = FindBrowser(options.BrowserPath);
        string plotly = options.PlotlyJsPath ?? PlotlyJs.LocalScriptPath();
        if (!File.Exists(plotly)) throw new FigureRenderException($"plotly.js not found at '{plotly}'");
        try
        {
            return await StartOnceAsync(options, browserPath, plotly, ct).ConfigureAwait(false);
        }
        catch (FigureRenderException e) when (e.InnerException is OperationCanceledException && !ct.IsCancellationRequested)
        {
            // A start that ran out of time gets one fresh try (a new browser and profile): in full test runs on a loaded
            // 2-core machine about one start in forty hung for the whole limit after the browser had announced its
            // DevTools endpoint, while the same start under the same load otherwise takes 5–10 s. Cause not found.
            return await StartOnceAsync(options, browserPath, plotly, ct).ConfigureAwait(false);
        }
    }

    private static async Task<ChromiumRenderer> StartOnceAsync(ChromiumOptions options, string browserPath, string plotly, CancellationToken ct)
    {
        string profile = Path.Combine(Path.GetTempPath(), $"era-chromium-{Environment.ProcessId}-{Guid.NewGuid():N}");
        // Private to this user: the profile holds the browser's state.
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(profile);
        else Directory.CreateDirectory(profile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // The page every figure is drawn in: blank, with the local plotly.js.
        string page = Path.Combine(profile, "era-figure.html");
        File.WriteAllText(page,
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\">" +
            $"<script src=\"{new Uri(Path.GetFullPath(plotly)).AbsoluteUri}\"></script></head><body></body></html>");

        var start = new ProcessStartInfo(browserPath)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var flag in Flags) start.ArgumentList.Add(flag);
        start.ArgumentList.Add($"--user-data-dir={profile}");
        start.ArgumentList.Add(new Uri(page).AbsoluteUri);  // starts loading plotly.js while PuppeteerSharp connects

        // era starts the browser itself and connects PuppeteerSharp to it, so that the process is era's from its first
        // moment: signals end it, and its exit code and last words are there to quote when it fails to start.
        // If the host process is stopped (Ctrl+C, SIGTERM, a notebook kernel restart) the browser goes with it, from
        // before it starts: .NET does not raise ProcessExit for these signals, so era listens for them itself.
        ChromiumRenderer? renderer = null;
        Process? process = null;
        void Stop()
        {
            if (Volatile.Read(ref renderer) is { } started) started.Dispose();
            else
            {
                try
                {
                    if (Volatile.Read(ref process) is { HasExited: false } p) p.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException) { }
                catch (System.ComponentModel.Win32Exception) { }
                TryDelete(profile);
            }
        }
        var signals = new List<PosixSignalRegistration>();
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
        {
            try { signals.Add(PosixSignalRegistration.Create(signal, _ => Stop())); }
            catch (PlatformNotSupportedException) { }
        }
        try
        {
            Volatile.Write(ref process, Process.Start(start) ?? throw new FigureRenderException($"could not start Chromium ({browserPath})"));
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or FigureRenderException)
        {
            foreach (var registration in signals) registration.Dispose();
            TryDelete(profile);
            throw new FigureRenderException($"could not start Chromium ({browserPath}): {e.Message}; {InstallHint}", e);
        }
        Volatile.Write(ref renderer, new ChromiumRenderer(browserPath, profile, process, options.RenderTimeout, signals));
        AppDomain.CurrentDomain.ProcessExit += renderer.OnProcessExit;
        process.ErrorDataReceived += (_, e) => renderer.KeepStderr(e.Data);
        process.OutputDataReceived += (_, e) => renderer.KeepStderr(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.StartTimeout);
        try
        {
            await renderer.ConnectAsync(timeout.Token).ConfigureAwait(false);
            await renderer.OpenFigurePageAsync(new Uri(page).AbsoluteUri).WaitAsync(timeout.Token).ConfigureAwait(false);
            return renderer;
        }
        catch (Exception e)
        {
            // If it exited, let its last words (stderr) arrive before quoting them: WaitForExit() waits for the end of its
            // output too. On a thread of its own (a busy thread pool took more than a second to run it, and the message
            // lost what the browser said) and bounded, as helpers may hold the pipe.
            if (process.HasExited)
            {
                var drain = new Thread(() => process.WaitForExit()) { IsBackground = true };
                drain.Start();
                drain.Join(TimeSpan.FromSeconds(10));
            }
            string tail = renderer.StderrTail() + ErrorsSuffix(renderer.TakeConsoleErrors(0));
            renderer.Dispose();
            if (e is OperationCanceledException && !ct.IsCancellationRequested)
                throw new FigureRenderException(
                    $"Chromium did not start and load plotly.js within {Seconds(options.StartTimeout)} s ({browserPath}){tail}", e);
            if (e is OperationCanceledException) throw;
            if (e is FigureRenderException fre) throw new FigureRenderException(fre.Message + tail, fre.InnerException);
            throw new FigureRenderException($"could not start Chromium ({browserPath}): {FirstLine(e.Message)}{tail}", e);
        }
    }

    /// <summary>Waits for the DevTools endpoint the browser announces in its profile, and connects PuppeteerSharp to it.</summary>
    private async Task ConnectAsync(CancellationToken ct)
    {
        // With --remote-debugging-port=0 the browser picks a free port and writes it, with the path of its
        // WebSocket, to DevToolsActivePort in the profile.
        string portFile = Path.Combine(ProfileDirectory, "DevToolsActivePort");
        string[] lines = [];
        while (lines.Length < 2)
        {
            if (_process.HasExited)
                throw new FigureRenderException($"Chromium exited during start-up with code {_process.ExitCode}");
            await Task.Delay(20, ct).ConfigureAwait(false);
            try { if (File.Exists(portFile)) lines = File.ReadAllLines(portFile); }
            catch (IOException) { }
        }
        var options = new ConnectOptions
        {
            BrowserWSEndpoint = $"ws://127.0.0.1:{lines[0].Trim()}{lines[1].Trim()}",
            DefaultViewport = new ViewPortOptions { Width = 1100, Height = 900 },
        };
        _browser = await Puppeteer.ConnectAsync(options).WaitAsync(ct).ConfigureAwait(false);
    }

    private void KeepStderr(string? line)
    {
        // Chromium in a container complains about the missing D-Bus on every start: noise, not the cause of an error.
        if (string.IsNullOrWhiteSpace(line) || line.Contains("dbus", StringComparison.OrdinalIgnoreCase)) return;
        lock (_stderr)
        {
            _stderr.Enqueue(line);
            while (_stderr.Count > 4) _stderr.Dequeue();
        }
    }

    private string StderrTail()
    {
        lock (_stderr) return _stderr.Count == 0 ? "" : "; browser said: " + string.Join(" | ", _stderr);
    }

    /// <summary>Opens the figure page (a tab whose console errors are recorded) and waits for plotly.js.</summary>
    private async Task OpenFigurePageAsync(string url)
    {
        // The browser opened the figure page at start-up and has been loading plotly.js meanwhile: take that tab.
        var pages = await Browser.PagesAsync().ConfigureAwait(false);
        if (pages.Length > 0) _page = pages[0];
        else
        {
            _page = await Browser.NewPageAsync().ConfigureAwait(false);
            await _page.GoToAsync(url, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 0 }).ConfigureAwait(false);
        }
        // No page-level limit of its own (Puppeteer's default is 30 s, which a loaded 2-core machine exceeded while the
        // tab's execution context appeared): StartTimeout bounds the whole start, WaitAsync in StartAsync.
        _page.DefaultTimeout = 0;
        RecordErrors(_page, _consoleErrors);
        // The page (not the blank document before it) has finished loading plotly.js.
        await _page.WaitForExpressionAsync($"location.href === {JsonSerializer.Serialize(url, FigureJsonContext.Default.String)} && document.readyState === 'complete'",
            new WaitForFunctionOptions { Timeout = 0, PollingInterval = 20 }).ConfigureAwait(false);
        string version = await _page.EvaluateExpressionAsync<string>("typeof Plotly === 'object' ? Plotly.version : 'missing'").ConfigureAwait(false);
        if (version == "missing")
            throw new FigureRenderException($"plotly.js did not load into the page{ErrorsSuffix(TakeConsoleErrors(0))}");
        PlotlyVersion = version;
    }

    /// <summary>Console errors, uncaught exceptions and failed loads of a page go to <paramref name="errors"/>.</summary>
    private static void RecordErrors(IPage page, List<string> errors)
    {
        page.Console += (_, e) =>
        {
            if (e.Message.Type is ConsoleType.Error or ConsoleType.Assert)
                lock (errors) errors.Add(e.Message.Text);
        };
        page.PageError += (_, e) => { lock (errors) errors.Add(FirstLine(e.Message)); };
    }

    /// <summary>The figure as PNG or SVG bytes, drawn by <c>Plotly.toImage</c>; size defaults to the layout's (else 700 × 450).</summary>
    public byte[] Export(Figure figure, ImageFormat format, int? width = null, int? height = null) =>
        ExportAsync(figure, format, width, height).GetAwaiter().GetResult();

    public async Task<byte[]> ExportAsync(Figure figure, ImageFormat format, int? width = null, int? height = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(figure);
        int w = width ?? figure.Layout.Width ?? 700, h = height ?? figure.Layout.Height ?? 450;
        if (w < 1 || h < 1) throw new ArgumentException($"image size must be positive, got {w}×{h}");
        string kind = format == ImageFormat.Png ? "png" : "svg";
        string js = $"Plotly.toImage({figure.ToJson()}, {{ format: '{kind}', width: {Int(w)}, height: {Int(h)}, scale: 1 }})";
        int errorsBefore = ConsoleErrorCount();
        var value = await RunAsync(js, $"export the figure as {kind.ToUpperInvariant()}", ct).ConfigureAwait(false);
        string url = value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
        if (format == ImageFormat.Png)
        {
            const string prefix = "data:image/png;base64,";
            if (!url.StartsWith(prefix, StringComparison.Ordinal))
                throw new FigureRenderException($"plotly.js returned no PNG{ErrorsSuffix(TakeConsoleErrors(errorsBefore))}");
            return Convert.FromBase64String(url[prefix.Length..]);
        }
        else
        {
            const string prefix = "data:image/svg+xml,";
            if (!url.StartsWith(prefix, StringComparison.Ordinal))
                throw new FigureRenderException($"plotly.js returned no SVG{ErrorsSuffix(TakeConsoleErrors(errorsBefore))}");
            return Encoding.UTF8.GetBytes(Uri.UnescapeDataString(url[prefix.Length..]));
        }
    }

    /// <summary>Exports the figure to a .png or .svg file, written atomically (old file intact if anything fails).</summary>
    public void Save(Figure figure, string path, int? width = null, int? height = null)
    {
        var format = FigureFile.FormatOf(path) switch
        {
            FigureFormat.Png => ImageFormat.Png,
            FigureFormat.Svg => ImageFormat.Svg,
            _ => throw new ArgumentException($"'{path}': the browser exports .png and .svg; write .html with {nameof(FigureFile)}.{nameof(FigureFile.Save)}", nameof(path)),
        };
        byte[] bytes = Export(figure, format, width, height);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>Draws the figure in the page and reports what plotly.js made of it (traces, invalid attributes, console errors).</summary>
    public RenderCheck Check(Figure figure) => CheckAsync(figure).GetAwaiter().GetResult();

    public async Task<RenderCheck> CheckAsync(Figure figure, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(figure);
        int errorsBefore = ConsoleErrorCount();
        string js = $$"""
            (async () => {
              const figure = {{figure.ToJson()}};
              const gd = document.createElement('div');
              document.body.appendChild(gd);
              try {
                await Plotly.newPlot(gd, figure.data, figure.layout, figure.config || {});
                const invalid = (Plotly.validate(figure.data, figure.layout) || []).map(e => e.msg);
                return {
                  traces: gd.data.length,
                  names: gd.data.map(t => t.name == null ? null : String(t.name)),
                  types: gd._fullData.map(t => t.type),
                  invalid: invalid,
                };
              } finally {
                Plotly.purge(gd);
                gd.remove();
              }
            })()
            """;
        var v = await RunAsync(js, "draw the figure", ct).ConfigureAwait(false);
        // Replies and events arrive in order on one connection: after one more round trip, every console message the
        // drawing produced has been recorded.
        await RunAsync("0", "finish", ct).ConfigureAwait(false);
        return new RenderCheck(
            v.GetProperty("traces").GetInt32(),
            v.GetProperty("names").EnumerateArray().Select(n => n.ValueKind == JsonValueKind.Null ? null : n.GetString()).ToList(),
            v.GetProperty("types").EnumerateArray().Select(t => t.GetString() ?? "").ToList(),
            v.GetProperty("invalid").EnumerateArray().Select(t => t.GetString() ?? "").ToList(),
            TakeConsoleErrors(errorsBefore));
    }

    /// <summary>
    /// Opens an HTML file in a new tab, waits until <paramref name="readyExpression"/> is truthy (or the render timeout
    /// passes) and returns its value and the console errors: for checking pages and notebook fragments.
    /// </summary>
    internal async Task<(JsonElement Value, IReadOnlyList<string> ConsoleErrors)> OpenPageAsync(string htmlPath, string readyExpression, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var errors = new List<string>();
        var page = await Browser.NewPageAsync().ConfigureAwait(false);
        try
        {
            RecordErrors(page, errors);
            int ms = (int)Math.Clamp(RenderTimeout.TotalMilliseconds, 1, int.MaxValue);
            string url = new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri;
            await page.GoToAsync(url, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = ms }).WaitAsync(ct).ConfigureAwait(false);
            var handle = await page.WaitForExpressionAsync($"(() => {{ try {{ return ({readyExpression}); }} catch (e) {{ return undefined; }} }})()",
                new WaitForFunctionOptions { Timeout = ms, PollingInterval = 20 }).WaitAsync(ct).ConfigureAwait(false);
            var value = await handle.JsonValueAsync<JsonElement>().ConfigureAwait(false);
            await page.EvaluateExpressionAsync("0").ConfigureAwait(false);  // every console message of the page has arrived
            lock (errors) return (value, errors.ToList());
        }
        catch (Exception e) when (e is WaitTaskTimeoutException or TimeoutException or NavigationException)
        {
            List<string> so;
            lock (errors) so = errors.ToList();
            throw new FigureRenderException($"the page {htmlPath} was not ready within {Seconds(RenderTimeout)} s{ErrorsSuffix(so)}", e);
        }
        finally
        {
            try { await page.CloseAsync().ConfigureAwait(false); } catch (PuppeteerException) { }
        }
    }

    /// <summary>Evaluates JavaScript in the figure page, awaiting a promise, within <see cref="RenderTimeout"/>.</summary>
    internal async Task<JsonElement> RunAsync(string expression, string what, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Task<JsonElement> evaluation;
        try
        {
            evaluation = _page.EvaluateExpressionAsync<JsonElement>(expression);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new FigureRenderException($"could not {what} in Chromium: {FirstLine(e.Message)}", e);
        }
        try
        {
            // A timed-out evaluation goes on in the page (a promise cannot be stopped); its late result or error is
            // dropped, and the page takes the next figure meanwhile.
            return await evaluation.WaitAsync(RenderTimeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _ = evaluation.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw new FigureRenderException($"plotly.js did not {what} within {Seconds(RenderTimeout)} s (render timeout){ErrorsSuffix(TakeConsoleErrors(0))}");
        }
        catch (EvaluationFailedException e)
        {
            throw new FigureRenderException($"plotly.js could not {what}: {EvaluationMessage(e)}", e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A protocol error, a closed connection (the browser crashed or was killed), a figure too large to send:
            // whatever it is, the caller gets one kind of error that says what could not be drawn.
            _ = evaluation.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw new FigureRenderException($"could not {what} in Chromium: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>"Evaluation failed: TypeError: Plotly.noSuchFunction is not a function\n    at …" → the error line.</summary>
    private static string EvaluationMessage(EvaluationFailedException e)
    {
        string line = FirstLine(e.Message);
        const string prefix = "Evaluation failed: ";
        return line.StartsWith(prefix, StringComparison.Ordinal) ? line[prefix.Length..] : line;
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();

    private int ConsoleErrorCount() { lock (_consoleErrors) return _consoleErrors.Count; }

    private List<string> TakeConsoleErrors(int from) { lock (_consoleErrors) return _consoleErrors.Skip(from).ToList(); }

    private static string ErrorsSuffix(IReadOnlyList<string> errors) => errors.Count == 0 ? "" : "; console: " + string.Join(" | ", errors.Take(5));

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    internal int ProcessId => _process.Id;

    /// <summary>True while the browser process runs (false after <see cref="Dispose"/>).</summary>
    public bool IsRunning
    {
        get { try { return !_process.HasExited; } catch (InvalidOperationException) { return false; } }
    }

    private void OnProcessExit(object? sender, EventArgs e) => Dispose();

    /// <summary>Closes the browser (killing it if it does not exit promptly) and deletes its temporary profile.</summary>
    public void Dispose()
    {
        // A signal handler and the start-up's error path may dispose at once: the second waits for the first to
        // finish, so that the process does not exit before the profile is gone.
        lock (_disposing)
        {
            if (_disposed) return;
            _disposed = true;
            DisposeBrowser();
        }
    }

    private void DisposeBrowser()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        foreach (var registration in _signals) registration.Dispose();
        bool closing = false;
        if (_browser is not null)
        {
            try { closing = _browser.CloseAsync().Wait(TimeSpan.FromSeconds(2)); }
            catch (AggregateException) { }
            catch (ObjectDisposedException) { }
            try { _browser.Dispose(); } catch (AggregateException) { } catch (PuppeteerException) { }
        }
        try
        {
            // Asked to close: give it a moment to exit cleanly; otherwise (or if it hangs) kill it and its helpers.
            if (!closing || !_process.WaitForExit(TimeSpan.FromSeconds(2)))
                _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
        _process.Dispose();
        TryDelete(ProfileDirectory);
    }

    private static void TryDelete(string dir)
    {
        // The browser's helper processes may still be writing for a moment after it exits.
        for (int attempt = 0; attempt < 20 && Directory.Exists(dir); attempt++)
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { Thread.Sleep(50); }
            catch (UnauthorizedAccessException) { Thread.Sleep(50); }
        }
    }
}
