using System.CommandLine;
using Era.Backprop;
using Spectre.Console;

namespace Era.Cli.Commands;

/// <summary>`./era backprop`: the iteration table of gradient descent on the 2-2-2 network.</summary>
internal static class BackpropCommand
{
    public static readonly string[] Formats = ["table", "csv", "markdown", "json"];

    public static Command Create()
    {
        var command = new Command("backprop", "The spreadsheet of gradient descent on the 2-2-2 network: one row per iteration, " +
            "the weights used, every intermediate value, the error and the eight gradients.");
        var network = new NetworkOptions();
        network.AddTo(command);
        var format = TypedOptions.Choice("--format", "table (terminal), csv, markdown (rounded for reading) or json", Formats, "table");
        command.Options.Add(format);
        Cli.SetHandler(command, parse =>
        {
            string fmt = parse.GetValue(format) ?? "table";
            var config = network.Config(parse);
            int iterations = network.IterationCount(parse);
            // Numbers so large that they overflow (an η of 1e308, inputs of 1e300) end the table before the first row
            // that is not numbers: found first, so every format's header states the rows it holds.
            string? line = null;
            if (Overflow(config, iterations) is var (k, what))
            {
                iterations = k - 1;
                line = $"era: backprop: at iteration {k} {what}: the numbers overflowed (η = {Short(config.LearningRate)}); " + (iterations == 0 ? "no table" : $"the table stops at iteration {iterations}");
            }
            if (iterations == 0)
            {
                parse.InvocationConfiguration.Error.WriteLine(line);
                return Cli.ExitFindings;
            }
            var rows = IterationTable.Stream(config, iterations);   // Overflow has streamed this config once: valid
            // Every format streams: rows are computed as they are written, so --iterations 1000000 stays in bounded memory.
            var output = parse.InvocationConfiguration.Output;
            switch (fmt)
            {
                case "csv": TableFormat.WriteCsv(output, config, rows); break;
                case "markdown": TableFormat.WriteMarkdown(output, config, rows); break;
                case "json": TableFormat.WriteJson(output, config, iterations, rows); break;
                default: WriteTerminalTable(config, iterations, rows, output); break;
            }
            if (line is null) return Cli.ExitOk;
            parse.InvocationConfiguration.Error.WriteLine(line);
            return Cli.ExitFindings;
        });
        return command;
    }

    /// <summary>
    /// The first row of the table whose numbers are not all finite, with "NAME is VALUE", or null. A pass of its own
    /// over the rows (streamed, so bounded in memory; the 2-2-2 network costs microseconds a row).
    /// </summary>
    private static (int Iteration, string What)? Overflow(NetworkConfig config, int iterations)
    {
        var columns = TableColumns.For(config);
        IEnumerable<IterationRow> rows;
        try { rows = IterationTable.Stream(config, iterations); }
        catch (ArgumentException e) { throw new UsageException("backprop", e.Message); } // the options let through what the network refuses: a bug
        foreach (var row in rows)
            if (columns.FirstOrDefault(col => !double.IsFinite(col.Value(config, row))) is { } bad)
                return (row.Iteration, $"{bad.Name} is {Short(bad.Value(config, row))}");
        return null;
    }

    /// <summary>How the terminal table shows a number: nine significant digits.</summary>
    public static string Short(double v) => v.ToString("G9", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Rows per block of the terminal table: the default 181 rows print as one block.</summary>
    public const int TerminalBlock = 1000;

    /// <summary>
    /// The table in three readable slices (hidden layer, output layer, error and gradients), each with the iteration
    /// number; the constants (inputs, targets, biases, η) once above them. Long runs print block after block of
    /// <see cref="TerminalBlock"/> rows, so only one block is ever held.
    /// </summary>
    private static void WriteTerminalTable(NetworkConfig c, int iterations, IEnumerable<IterationRow> rows, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        var cols = TableColumns.For(c);
        string[][] slices =
        [
            ["w1", "w2", "w3", "w4", "h1", "a_h1", "h2", "a_h2"],
            ["w5", "w6", "w7", "w8", "o1", "a_o1", "o2", "a_o2"],
            ["E1", "E2", "E_tot", .. Enumerable.Range(1, 8).Select(k => $"dE/dw{k}")],
        ];
        bool first = true;
        foreach (var block in rows.Chunk(TerminalBlock))
        {
            if (first)
            {
                string[] constants = c.HasBiases ? ["t1", "t2", "i1", "i2", "b1", "b2"] : ["t1", "t2", "i1", "i2"];
                console.WriteLine(string.Join("  ", constants.Select(n => $"{n} = {Short(cols.First(col => col.Name == n).Value(c, block[0]))}")) +
                    $"  η = {Short(c.LearningRate)}  ({iterations} iterations)");
                first = false;
            }
            foreach (var slice in slices)
            {
                var t = new Table().Border(TableBorder.Simple);
                t.AddColumn(new Spectre.Console.TableColumn("k").RightAligned());
                foreach (var name in slice) t.AddColumn(new Spectre.Console.TableColumn(Markup.Escape(name)).RightAligned());
                var picked = slice.Select(name => cols.First(col => col.Name == name)).ToList();
                foreach (var row in block)
                    t.AddRow([row.Iteration.ToString(System.Globalization.CultureInfo.InvariantCulture), .. picked.Select(col => Short(col.Value(c, row)))]);
                console.Write(t);
            }
        }
    }
}
