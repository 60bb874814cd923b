using System.Text;
using Era.Backprop;

namespace Era.Tests.Cli;

/// <summary>Alone, so that no other test's memory is counted in the heap this one measures.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasuringCollection
{
    public const string Name = "measures the whole heap";
}

/// <summary>`backprop` writes rows as it computes them: memory stays bounded however many iterations are asked for.</summary>
[Collection(MemoryMeasuringCollection.Name)]
public class BackpropStreamingTests
{
    /// <summary>
    /// Throws every character away, counting them and lines, and measures the live heap (after a full collection) every
    /// <see cref="Every"/> lines: if the rows were all built first, the heap would hold them all by the first line.
    /// </summary>
    private sealed class CountingWriter : TextWriter
    {
        public const int Every = 50_000;
        public long Chars, Lines, MaxLiveBytes;
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => Write(value.ToString());

        public override void Write(string? value)
        {
            if (value is null) return;
            Chars += value.Length;
            long before = Lines;
            Lines += value.AsSpan().Count('\n');
            if (Lines / Every != before / Every || before == 0 && Lines > 0)
                MaxLiveBytes = Math.Max(MaxLiveBytes, GC.GetTotalMemory(forceFullCollection: true));
        }
    }

    [Theory]
    [InlineData("csv", 200_000, 200_001)]        // header + one line a row
    [InlineData("markdown", 200_000, 200_002)]   // header, rule, rows
    [InlineData("json", 120_000, -1)]            // the terminal table is drawn block by block: see the test below
    public void ManyIterationsStayInBoundedMemory(string format, int iterations, long lines)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var output = new CountingWriter();
        var error = new StringWriter();
        int code = Era.Cli.Cli.Run(["backprop", "--format", format, "--iterations", iterations.ToString(System.Globalization.CultureInfo.InvariantCulture)], output, error);
        Assert.Equal((0, ""), (code, error.ToString()));
        if (lines > 0) Assert.Equal(lines, output.Lines);
        Assert.True(output.Chars > 100L * iterations, $"{output.Chars} characters for {iterations} rows");
        // Held at once, the rows alone (weights, forward pass, gradients) grow the heap by ~47 MB for 200,000 (measured).
        long grown = output.MaxLiveBytes - before;
        Assert.True(grown < 16L << 20, $"the live heap grew by {grown >> 20} MB while writing");
    }

    [Fact]
    public void TheTerminalTablePrintsLongRunsBlockByBlock()
    {
        var (code, stdout, _) = CliRunner.Run("backprop", "--iterations", "1001");
        Assert.Equal(0, code);
        // Three slices a block, two blocks: the header row of each slice appears twice.
        Assert.Equal(2, stdout.Split('\n').Count(l => l.TrimStart().StartsWith("k ", StringComparison.Ordinal) && l.Contains("a_h1", StringComparison.Ordinal)));
        var last = IterationTable.Run(NetworkConfig.Classic, 1001).Rows[^1];
        Assert.Contains(Era.Cli.Commands.BackpropCommand.Short(last.Forward.ETotal), stdout, StringComparison.Ordinal);
        Assert.Single(stdout.Split('\n'), l => l.Contains("(1001 iterations)", StringComparison.Ordinal));
    }
}
