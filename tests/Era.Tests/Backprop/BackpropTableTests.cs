using Era.Backprop;
using FsCheck;
using FsCheck.Fluent;
using static Era.Tests.Backprop.BackpropGenerators;

namespace Era.Tests.Backprop;

public class BackpropTableTests
{
    [Fact]
    public void RowKPlusOneHoldsRowKWeightsMinusEtaTimesRowKGradients()
    {
        Check.One(Runs(50), Prop.ForAll(ConfigArb, c =>
        {
            var table = IterationTable.Run(c, 20);
            Assert.Equal(20, table.Rows.Count);
            Assert.Equal(c.Weights, table.Rows[0].Weights);
            for (int k = 0; k + 1 < table.Rows.Count; k++)
            {
                var row = table.Rows[k];
                var next = table.Rows[k + 1];
                Assert.Equal(k + 1, row.Iteration);
                for (int j = 1; j <= Weights.Count; j++)
                    Assert.Equal(row.Weights[j] - c.LearningRate * row.Gradients[j], next.Weights[j]);
                // Everything else in the row is computed from that row's weights.
                Assert.Equal(TwoLayerNetwork.Forward(c, row.Weights), row.Forward);
                Assert.Equal(TwoLayerNetwork.Gradients(c, row.Weights, row.Forward), row.Gradients);
            }
            return true;
        }));
    }

    [Fact]
    public void DefaultTableHas181Rows()
    {
        Assert.Equal(181, IterationTable.Run(NetworkConfig.Era).Rows.Count);
    }

    [Fact]
    public void SecondRowMatchesThePublishedUpdatedWeights()
    {
        // Mazur (2015), "A Step by Step Backpropagation Example": the weights after the first update, η = 0.5.
        var c = NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 };
        var w = IterationTable.Run(c, 2).Rows[1].Weights;
        Assert.Equal(0.149780716, w.W1, 9);
        Assert.Equal(0.19956143, w.W2, 8);
        Assert.Equal(0.24975114, w.W3, 8);
        Assert.Equal(0.29950229, w.W4, 8);
        Assert.Equal(0.35891648, w.W5, 8);
        Assert.Equal(0.408666186, w.W6, 9);
        Assert.Equal(0.511301270, w.W7, 9);
        Assert.Equal(0.561370121, w.W8, 9);
    }

    [Fact]
    public void ErrorAfterTenThousandRowsMatchesThePublishedValue()
    {
        // Same source: "after repeating this process 10,000 times … the error plummets to 0.0000351085".
        var c = NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 };
        Assert.Equal(0.0000351085, IterationTable.Run(c, 10_000).Rows[^1].Forward.ETotal, 10);
    }

    [Fact]
    public void SweepGivesOneTablePerRateInOrder()
    {
        var tables = LearningRateSweep.Run(NetworkConfig.Classic);
        Assert.Equal(new[] { 0.1, 0.2, 0.5, 0.8, 1.0, 2.0 }, tables.Select(t => t.LearningRate));
        Assert.All(tables, t => Assert.Equal(181, t.Rows.Count));
        Assert.All(tables, t => Assert.Equal(NetworkConfig.Classic.Weights, t.Rows[0].Weights));
        var custom = LearningRateSweep.Run(NetworkConfig.Era, [0.3, 0.05], 7);
        Assert.Equal(new[] { 0.3, 0.05 }, custom.Select(t => t.LearningRate));
        Assert.All(custom, t => Assert.Equal(7, t.Rows.Count));
    }

    [Theory]
    [InlineData("classic")]
    [InlineData("era")]
    public void SmallRatesDecreaseTheErrorEveryRow(string preset)
    {
        foreach (var table in LearningRateSweep.Run(NetworkConfig.Preset(preset), [0.1, 0.2, 0.5]))
        {
            var e = table.Losses();
            for (int k = 1; k < e.Length; k++) Assert.True(e[k] < e[k - 1], $"η = {table.LearningRate}: E_total rose at row {k + 1}");
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    public void BadLearningRateIsRejected(double lr)
    {
        Assert.Throws<ArgumentException>(() => IterationTable.Run(NetworkConfig.Classic with { LearningRate = lr }, 3));
    }
}
