using System.Text.Json;
using Era.Backprop;
using Era.Figures;

namespace Era.Tests.Figures;

/// <summary>The HTML outputs as text, and the plotly.js version pinned in lib/web against the one notebooks load.</summary>
public class HtmlTests
{
    internal static string WebFolder() =>
        PlotlyJs.FindWebFolder() ?? throw new InvalidOperationException("lib/web/package.json not found above the test's folder");

    /// <summary>The local plotly.js, or a failure that says how to install it: these tests never skip.</summary>
    internal static string LocalPlotly()
    {
        try { return PlotlyJs.LocalScriptPath(); }
        catch (FigureRenderException e) { throw new InvalidOperationException(e.Message, e); }
    }

    [Fact]
    public void NotebooksLoadTheSamePlotlyVersionAsNpmPins()
    {
        string web = WebFolder();
        using var package = JsonDocument.Parse(File.ReadAllText(Path.Combine(web, "package.json")));
        Assert.Equal(PlotlyJs.Version, package.RootElement.GetProperty("dependencies").GetProperty(PlotlyJs.NpmPackage).GetString());
        using var lockFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(web, "package-lock.json")));
        Assert.Equal(PlotlyJs.Version, lockFile.RootElement.GetProperty("packages").GetProperty($"node_modules/{PlotlyJs.NpmPackage}").GetProperty("version").GetString());
        // The installed copy (npm ci --prefix lib/web) is that version too.
        string installed = Path.Combine(Path.GetDirectoryName(LocalPlotly())!, "package.json");
        using var installedPackage = JsonDocument.Parse(File.ReadAllText(installed));
        Assert.Equal(PlotlyJs.Version, installedPackage.RootElement.GetProperty("version").GetString());
        Assert.Equal($"https://cdn.plot.ly/plotly-cartesian-{installedPackage.RootElement.GetProperty("version").GetString()}.min.js", PlotlyJs.CdnUrl);
    }

    [Fact]
    public void FragmentLoadsThePinnedPlotlyThroughRequireJsOrAScriptTag()
    {
        var figure = Charts.Network(NetworkConfig.Era);
        string html = PlotlyHtml.Fragment(figure, "net-1");
        Assert.StartsWith("<div id=\"net-1\"", html);
        Assert.Contains($"paths: {{ plotly: \"https://cdn.plot.ly/plotly-cartesian-{PlotlyJs.Version}.min\" }}", html);
        Assert.Contains($"s.src = \"https://cdn.plot.ly/plotly-cartesian-{PlotlyJs.Version}.min.js\"", html);
        Assert.Contains(figure.ToJson(), html);
        Assert.Contains("document.getElementById(\"net-1\")", html);
        Assert.Contains("Plotly.newPlot(div", html);
    }

    [Fact]
    public void TextFromTheFigureCannotCloseTheScriptElement()
    {
        var figure = new Figure { Data = [new Scatter { Name = "</script><script>alert(1)</script>", X = [1], Y = [1] }] };
        foreach (string html in new[] { PlotlyHtml.Fragment(figure), PlotlyHtml.Page(figure, "t", plotlyScriptSrc: "plotly.min.js") })
        {
            Assert.DoesNotContain("<script>alert", html);
            Assert.Equal(html.Split("<script").Length - 1, html.Split("</script>").Length - 1);
        }
    }

    [Fact]
    public void HandoutPageInlinesTheLocalPlotlySoItWorksOffline()
    {
        string plotly = File.ReadAllText(LocalPlotly());
        string page = PlotlyHtml.Page(Charts.LearningRates(LearningRateSweep.Run(NetworkConfig.Classic, [0.5], 10)), "E_total & η");
        Assert.StartsWith("<!DOCTYPE html>", page);
        Assert.Contains("<title>E_total &amp; η</title>", page);
        Assert.Contains(plotly[..2000], page);
        Assert.True(page.Length > plotly.Length);
        Assert.DoesNotContain("cdn.plot.ly/plotly-cartesian-", page);
        Assert.DoesNotContain("<script type=\"text/javascript\" src=", page);
    }

    [Fact]
    public void FileExtensionPicksTheFormat()
    {
        Assert.Equal(FigureFormat.Html, FigureFile.FormatOf("a/b.html"));
        Assert.Equal(FigureFormat.Png, FigureFile.FormatOf("B.PNG"));
        Assert.Equal(FigureFormat.Svg, FigureFile.FormatOf("c.svg"));
        var e = Assert.Throws<ArgumentException>(() => FigureFile.FormatOf("d.jpg"));
        Assert.Contains("'.jpg'", e.Message);
        Assert.Contains(".html, .png or .svg", e.Message);
        Assert.Throws<ArgumentException>(() => FigureFile.FormatOf("noextension"));
    }

    [Fact]
    public void HtmlFileIsWrittenAtomically()
    {
        string dir = Directory.CreateTempSubdirectory("era-fig-").FullName;
        try
        {
            string path = Path.Combine(dir, "net.html");
            File.WriteAllText(path, "old");
            FigureFile.Save(Charts.Network(NetworkConfig.Classic), path, width: 640, height: 400);
            string html = File.ReadAllText(path);
            Assert.StartsWith("<!DOCTYPE html>", html);
            Assert.Contains("\"width\":640", html);
            Assert.Equal(["net.html"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
