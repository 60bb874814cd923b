using Era.Engine.Kernels;

namespace Era.Tests.Engine;

[Collection(EngineCollection.Name)]
public sealed class PeakTests
{
    [Fact]
    public void EveryIsaTheCpuHasGivesAPositiveFiniteFigureAndOthersAreRefused()
    {
        Assert.Contains("avx2", Peak.Isas()); // the course machines all have AVX2 + FMA
        foreach (string isa in Peak.Isas())
        {
            double g = Peak.GigaflopsPerSecond(isa, seconds: 0.02);
            Assert.True(double.IsFinite(g) && g > 0, $"{isa}: {g}");
        }
        var e = Assert.Throws<ArgumentException>(() => Peak.GigaflopsPerSecond("neon"));
        Assert.Contains("not available on this CPU", e.Message);
        if (!Peak.Isas().Contains("avx512"))
            Assert.Contains("avx512 is not available", Assert.Throws<ArgumentException>(() => Peak.GigaflopsPerSecond("avx512")).Message);
    }
}
