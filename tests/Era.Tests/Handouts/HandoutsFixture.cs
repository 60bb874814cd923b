using Era.Figures;
using Era.Handouts;
using PuppeteerSharp;

namespace Era.Tests.Handouts;

/// <summary>The handouts of the fixture notebooks, written once, and a headless Chromium (PuppeteerSharp) to load them.</summary>
public sealed class HandoutsFixture : IAsyncLifetime
{
    public static string Notebooks => Path.Combine(AppContext.BaseDirectory, "Handouts", "notebooks");

    public string Root { get; } = Directory.CreateTempSubdirectory("era-handouts-").FullName;

    public string Out => Path.Combine(Root, "handouts");

    public HandoutsResult Result { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    private string _profile = "";

    public async Task InitializeAsync()
    {
        Result = Era.Handouts.Handouts.Write(new HandoutsOptions { NotebooksDirectory = Notebooks, OutputDirectory = Out });
        _profile = Directory.CreateTempSubdirectory("era-puppeteer-").FullName;
        Browser = await Puppeteer.LaunchAsync(Chromium.LaunchOptions(ChromiumRenderer.FindBrowser(), _profile, TimeSpan.FromSeconds(60)));
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Browser?.Dispose();
        foreach (var dir in new[] { Root, _profile })
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
