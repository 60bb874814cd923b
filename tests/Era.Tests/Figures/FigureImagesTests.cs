using System.Diagnostics;
using System.Xml.Linq;
using Era.Figures;

namespace Era.Tests.Figures;

/// <summary>figure.ToPng() / ToSvg(): one line each, one browser for all of them, a new one if it died.</summary>
[Collection("Chromium")]
public class FigureImagesTests
{
    [Fact]
    public void ManyFiguresShareOneBrowserAndADeadOneIsReplaced()
    {
        try
        {
            var png = Png.Decode(RenderTests.Build("lr").ToPng(640, 400));
            Assert.Equal((640, 400), (png.Width, png.Height));
            Assert.True(png.BrightnessVariance() > 100, "blank?");
            int? browser = FigureImages.SharedProcessId;
            Assert.NotNull(browser);

            var svg = XDocument.Parse(RenderTests.Build("network").ToSvg(500, 300)).Root!;
            Assert.Equal(("svg", "500"), (svg.Name.LocalName, svg.Attribute("width")?.Value));
            var bundle = FigureImages.Bundle(RenderTests.Build("confusion"));
            Assert.Contains("Plotly.newPlot", bundle["text/html"]);
            Assert.True(Png.Decode(Convert.FromBase64String(bundle["image/png"])).BrightnessVariance() > 10);
            Assert.Equal(browser, FigureImages.SharedProcessId);

            using (var p = Process.GetProcessById(browser!.Value))
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            Assert.Equal((300, 200), (Png.Decode(RenderTests.Build("lr").ToPng(300, 200)).Width, 200));
            Assert.NotEqual(browser, FigureImages.SharedProcessId);
        }
        finally
        {
            FigureImages.Close();
        }
        Assert.Null(FigureImages.SharedProcessId);
    }
}
