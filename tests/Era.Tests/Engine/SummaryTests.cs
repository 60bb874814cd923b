using Era.Engine;
using Era.Engine.Models;

namespace Era.Tests.Engine;

[Collection(EngineCollection.Name)]
public class SummaryTests
{
    [Fact]
    public void ReferenceNetReceptiveFieldsShapesAndTotals()
    {
        var s = Summary.summary(ModelZoo.Create("reference"), 1, 28, 28);
        var rows = s.Rows.ToDictionary(r => r.Name);
        // Receptive field by hand (rf_out = rf_in + (k − 1)·jump_in, jump_out = jump_in·stride), from rf 1, jump 1:
        //   f.0 conv3: 1 + 2·1 = 3      f.1 conv3: 5        f.2 conv3: 7           (jump 1; 26, 24, 22 pixels)
        //   f.3 pool2: 7 + 1·1 = 8, jump 2 (11 pixels)      f.4 conv1×1: 8
        //   f.5 conv3: 8 + 2·2 = 12     f.6: 16             f.7: 20      f.8 (padding 1): 24   (9, 7, 5, 5 pixels)
        //   f.9 global average over 5×5: 24 + 4·2 = 32, jump 10.
        (string Name, int Rf, int Jump, int Side)[] expected =
        [
            ("f.0.0", 3, 1, 26), ("f.1.0", 5, 1, 24), ("f.2.0", 7, 1, 22), ("f.3", 8, 2, 11), ("f.4", 8, 2, 11),
            ("f.5.0", 12, 2, 9), ("f.6.0", 16, 2, 7), ("f.7.0", 20, 2, 5), ("f.8.0", 24, 2, 5), ("f.9", 32, 10, 1),
        ];
        foreach (var (name, rf, jump, side) in expected)
        {
            Assert.Equal(rf, rows[name].ReceptiveField);
            Assert.Equal(jump, rows[name].Jump);
            Assert.Equal(side, rows[name].OutputShape[2]);
        }
        Assert.Equal(24, rows["f.8.3"].ReceptiveField);   // BN, ReLU, dropout do not change the field
        Assert.Equal(32, rows["fc"].ReceptiveField);
        Assert.Equal([1, 10], rows["log_softmax"].OutputShape);
        // MACs by hand: Cout·Cin·k²·Ho·Wo per conv, in·out for fc.
        Assert.Equal(8 * 1 * 9 * 26 * 26, rows["f.0.0"].Macs);
        Assert.Equal(16 * 16 * 9 * 22 * 22, rows["f.2.0"].Macs);
        Assert.Equal(8 * 16 * 11 * 11, rows["f.4"].Macs);
        Assert.Equal(160, rows["fc"].Macs);
        Assert.Equal(48672 + 663552 + 1115136 + 15488 + 93312 + 112896 + 57600 + 57600 + 160, s.TotalMacs);
        Assert.Equal(12098, s.TotalParameters);
        Assert.Equal(12098, s.TrainableParameters);
        Assert.Equal(16 * 8 * 9, rows["f.1.0"].Parameters);
        Assert.Equal(32, rows["f.1.1"].Parameters);
        Assert.Equal(12098 * 4 / 1048576.0, s.ParamsMB, 9);
        Assert.Equal(784 * 4 / 1048576.0, s.InputMB, 9);
        string text = s.ToText();
        Assert.Contains("f.2.0", text);
        Assert.Contains("[-1, 16, 22, 22]", text);
        Assert.Contains("Total params: 12,098", text);
    }

    [Fact]
    public void SummaryRestoresTrainingModeAndRejectsBadShapes()
    {
        var net = ModelZoo.Create("reference");
        Summary.summary(net, 1, 28, 28);
        Assert.True(net.Training);
        Assert.Throws<ArgumentException>(() => Summary.summary(net, 1, 0, 28));
        Assert.Throws<ArgumentException>(() => Summary.summary(net, 3, 28, 28));
    }
}
