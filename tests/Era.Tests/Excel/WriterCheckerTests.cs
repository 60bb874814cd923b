using Era.Backprop;
using Era.Excel.Checking;
using Era.Excel.Writing;

namespace Era.Tests.Excel;

/// <summary>The two halves agree: every table sheet the writer produces passes the checker (planted errors are in CheckerTests).</summary>
public class WriterCheckerTests
{
    private static byte[] Workbook(NetworkConfig config, int iterations, IReadOnlyList<double> rates)
    {
        using var stream = new MemoryStream();
        BackpropWorkbook.Write(stream, config, iterations, rates);
        return stream.ToArray();
    }

    [Theory]
    [InlineData("classic", 0.0, 0.0)]
    [InlineData("era", 0.35, 0.6)]
    public void EveryTableSheetTheWriterProducesChecksClean(string preset, double b1, double b2)
    {
        var config = NetworkConfig.Preset(preset) with { B1 = b1, B2 = b2, LearningRate = 0.8 };
        var rates = new[] { 0.1, 2.0 };
        var xlsx = Workbook(config, 40, rates);

        var table = SheetChecker.Check(xlsx);
        Assert.True(table.Ok, table.ToText());
        Assert.Equal(40, table.Rows);
        Assert.Equal(0.8, table.LearningRate!.Value, 12);

        foreach (var rate in rates)
        {
            var report = SheetChecker.Check(xlsx, BackpropWorkbook.RateSheet(rate));
            Assert.True(report.Ok, report.ToText());
            Assert.Equal(rate, report.LearningRate!.Value, 12);
        }
    }
}
