using PuppeteerSharp;

namespace Era.Figures;

/// <summary>How era starts the system Chromium with PuppeteerSharp (for figure export and for the tests that load pages).</summary>
public static class Chromium
{
    /// <summary>
    /// Flags on top of PuppeteerSharp's own: no sandbox (containers run as root), nothing that talks to the network on
    /// its own, no crash reporter (its handler processes double-fork out of the browser's process tree and outlive it).
    /// </summary>
    public static IReadOnlyList<string> Flags { get; } =
    [
        "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        "--disable-extensions", "--disable-default-apps", "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
        "--disable-crash-reporter", "--disable-breakpad",
    ];

    /// <summary>Launch options for the browser at <paramref name="browserPath"/> with a private profile folder.</summary>
    public static LaunchOptions LaunchOptions(string browserPath, string profileDirectory, TimeSpan startTimeout) => new()
    {
        ExecutablePath = browserPath,
        Headless = true,
        UserDataDir = profileDirectory,
        Args = [.. Flags],
        Timeout = (int)Math.Clamp(startTimeout.TotalMilliseconds, 1, int.MaxValue),
        DefaultViewport = new ViewPortOptions { Width = 1100, Height = 900 },
    };
}
