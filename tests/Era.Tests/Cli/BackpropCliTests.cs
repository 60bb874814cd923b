using System.Globalization;
using System.Text.Json;
using Era.Backprop;
using Era.Cli.Commands;

namespace Era.Tests.Cli;

public class BackpropCliTests
{
    private const string Columns =
        "t1,t2,i1,i2,w1,w2,w3,w4,h1,a_h1,h2,a_h2,w5,w6,w7,w8,o1,a_o1,o2,a_o2,E1,E2,E_tot," +
        "dE/dw1,dE/dw2,dE/dw3,dE/dw4,dE/dw5,dE/dw6,dE/dw7,dE/dw8";

    private static double[][] Values(IterationTable t) =>
        t.Rows.Select(r => TableColumns.For(t.Config).Select(c => c.Value(t.Config, r)).ToArray()).ToArray();

    [Fact]
    public void CsvHasTheExactHeaderAndRoundTripsEveryNumber()
    {
        var (exit, stdout, stderr) = CliRunner.Run("backprop", "--format", "csv");
        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("k," + Columns, lines[0]);
        Assert.Equal(182, lines.Length);
        var expected = Values(IterationTable.Run(NetworkConfig.Classic));
        for (int k = 1; k < lines.Length; k++)
        {
            var cells = lines[k].Split(',');
            Assert.Equal(k.ToString(CultureInfo.InvariantCulture), cells[0]); // the k column, as in table, markdown and JSON
            Assert.Equal(expected[k - 1], cells.Skip(1).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray());
        }
    }

    [Fact]
    public void OptionsReachTheTable()
    {
        var (exit, stdout, _) = CliRunner.Run("backprop", "--preset", "era", "--inputs", "0.3,-0.2", "--targets", "0.1,0.7",
            "--weights", "1,2,3,4,5,6,7,8", "--biases", "0.35,0.6", "--lr", "0.25", "--iterations", "5", "--format", "csv");
        Assert.Equal(0, exit);
        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("k,t1,t2,i1,i2,b1,b2,w1,w2,w3,w4,", lines[0][..32]);
        Assert.Equal(6, lines.Length);
        var c = new NetworkConfig(0.3, -0.2, 0.1, 0.7, new Weights(1, 2, 3, 4, 5, 6, 7, 8), 0.25, 0.35, 0.6);
        var expected = Values(IterationTable.Run(c, 5));
        for (int k = 1; k < lines.Length; k++)
            Assert.Equal(expected[k - 1], lines[k].Split(',').Skip(1).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray());
    }

    [Fact]
    public void JsonParsesAndHoldsConfigAndRows()
    {
        var (exit, stdout, _) = CliRunner.Run("backprop", "--format", "json", "--iterations", "12", "--biases", "0.35,0.6");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(stdout);
        var config = doc.RootElement.GetProperty("config");
        Assert.Equal(0.35, config.GetProperty("b1").GetDouble());
        Assert.Equal(0.5, config.GetProperty("learningRate").GetDouble());
        Assert.Equal(NetworkConfig.DefaultWeights.ToArray(), config.GetProperty("weights").EnumerateArray().Select(e => e.GetDouble()));
        var table = IterationTable.Run(NetworkConfig.Classic with { B1 = 0.35, B2 = 0.6 }, 12);
        var columns = TableColumns.For(table.Config);
        Assert.Equal(columns.Select(c => c.Name), doc.RootElement.GetProperty("columns").EnumerateArray().Select(e => e.GetString()));
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(12, rows.Count);
        for (int k = 0; k < rows.Count; k++)
        {
            Assert.Equal(k + 1, rows[k].GetProperty("k").GetInt32());
            foreach (var col in columns)
                Assert.Equal(col.Value(table.Config, table.Rows[k]), rows[k].GetProperty(col.Name).GetDouble());
        }
    }

    [Fact]
    public void MarkdownIsATableOfTheValuesRoundedToSixSignificantDigits()
    {
        var (exit, stdout, _) = CliRunner.Run("backprop", "--format", "markdown", "--iterations", "4");
        Assert.Equal(0, exit);
        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("| k | " + Columns.Replace(",", " | ") + " |", lines[0]);
        Assert.Matches(@"^\| ---: \|( ---: \|)+$", lines[1]);
        Assert.Equal(6, lines.Length);
        var table = IterationTable.Run(NetworkConfig.Classic, 4);
        var expected = Values(table);
        for (int k = 0; k < 4; k++)
        {
            var cells = lines[k + 2].Trim('|').Split('|').Select(s => s.Trim()).ToArray();
            Assert.Equal((k + 1).ToString(CultureInfo.InvariantCulture), cells[0]);
            var shown = cells.Skip(1).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(expected[k].Length, shown.Length);
            for (int j = 0; j < shown.Length; j++)
            {
                Assert.True(Math.Abs(shown[j] - expected[k][j]) <= 5e-6 * Math.Abs(expected[k][j]), $"{cells[j + 1]} vs {expected[k][j]}");
                Assert.True(cells[j + 1].TrimStart('-').Replace(".", "", StringComparison.Ordinal).Split('E')[0].TrimStart('0').Length <= 6,
                    $"{cells[j + 1]} has more than six significant digits");
            }
        }
    }

    [Fact]
    public void TerminalTableShowsEveryRowAndValue()
    {
        var (exit, stdout, _) = CliRunner.Run("backprop", "--iterations", "3");
        Assert.Equal(0, exit);
        var table = IterationTable.Run(NetworkConfig.Classic, 3);
        foreach (var row in table.Rows)
            foreach (var col in TableColumns.For(table.Config).Where(c => c.Name is not ("t1" or "t2" or "i1" or "i2")))
                Assert.Contains(BackpropCommand.Short(col.Value(table.Config, row)), stdout);
        Assert.Contains("t1 = 0.01", stdout);
        Assert.Contains("dE/dw8", stdout);
        Assert.DoesNotContain("\u001b[", stdout); // no escape codes when captured
    }

    [Theory]
    [InlineData("--inputs", "0.05")]
    [InlineData("--inputs", "0.05,abc")]
    [InlineData("--targets", "1,2,3")]
    [InlineData("--targets", "NaN,0.5")]
    [InlineData("--weights", "1,2,3,4,5,6,7")]
    [InlineData("--weights", "1,2,3,4,5,6,7,Infinity")]
    [InlineData("--biases", "0.35")]
    [InlineData("--lr", "0")]
    [InlineData("--lr", "-0.5")]
    [InlineData("--lr", "NaN")]
    [InlineData("--lr", "fast")]
    [InlineData("--iterations", "0")]
    [InlineData("--iterations", "-3")]
    [InlineData("--iterations", "2.5")]
    [InlineData("--format", "xlsx")]
    [InlineData("--preset", "mnist")]
    public void BadInputIsOneLineNamingTheOption(string option, string value)
    {
        var (exit, stdout, stderr) = CliRunner.Run("backprop", option, value);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        var lines = stderr.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.StartsWith($"era: {option}: ", lines[0]);
    }
}
