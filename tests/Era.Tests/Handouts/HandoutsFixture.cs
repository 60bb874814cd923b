using Era.Figures;
using Era.Handouts;
using PuppeteerSharp;

namespace Era.Tests.Handouts;

/// <summary>The handouts of the fixture notebooks, written once, and the headless Chromium (PuppeteerSharp) that loads them.</summary>
public sealed class HandoutsFixture : IDisposable
{
    public static string Notebooks => Path.Combine(AppContext.BaseDirectory, "Handouts", "notebooks");

    public string Root { get; } = Directory.CreateTempSubdirectory("era-handouts-").FullName;

    public string Out => Path.Combine(Root, "handouts");

    public HandoutsResult Result { get; }

    private readonly ChromiumRenderer _chromium;

    public IBrowser Browser => _chromium.Browser;

    public HandoutsFixture()
    {
        Result = Era.Handouts.Handouts.Write(new HandoutsOptions { NotebooksDirectory = Notebooks, OutputDirectory = Out });
        _chromium = ChromiumRenderer.Start(new ChromiumOptions { StartTimeout = TimeSpan.FromSeconds(60) });
    }

    public void Dispose()
    {
        _chromium.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}
