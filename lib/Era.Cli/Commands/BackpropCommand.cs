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
        var format = new Option<string>("--format") { Description = "table (terminal), csv, markdown or json", DefaultValueFactory = _ => "table" };
        command.Options.Add(format);
        Cli.SetHandler(command, parse =>
        {
            string fmt = (parse.GetValue(format) ?? "table").Trim().ToLowerInvariant();
            if (!Formats.Contains(fmt))
                throw new UsageException("--format", $"unknown format '{parse.GetValue(format)}' (expected one of: {string.Join(", ", Formats)})");
            var config = network.Config(parse);
            int iterations = network.IterationCount(parse);
            IterationTable table;
            try { table = IterationTable.Run(config, iterations); }
            catch (ArgumentException e) { throw new UsageException(OptionFor(e.Message), e.Message); }
            var output = parse.InvocationConfiguration.Output;
            switch (fmt)
            {
                case "csv": output.Write(TableFormat.ToCsv(table)); break;
                case "markdown": output.Write(TableFormat.ToMarkdown(table)); break;
                case "json": output.Write(TableFormat.ToJson(table)); break;
                default: WriteTerminalTable(table, output); break;
            }
            return Cli.ExitOk;
        });
        return command;
    }

    /// <summary>The option behind a <see cref="NetworkConfig.Validate"/> message ("w3 must be …" → --weights).</summary>
    private static string OptionFor(string message) => message[0] switch
    {
        'i' => "--inputs",
        't' => "--targets",
        'b' => "--biases",
        'w' => "--weights",
        _ => "--lr",
    };

    /// <summary>How the terminal table shows a number: nine significant digits.</summary>
    public static string Short(double v) => v.ToString("G9", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The table in three readable slices (hidden layer, output layer, error and gradients), each with the iteration
    /// number; the constants (inputs, targets, biases, η) once above them.
    /// </summary>
    private static void WriteTerminalTable(IterationTable table, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        var c = table.Config;
        var cols = TableColumns.For(c);
        string[] constants = c.HasBiases ? ["t1", "t2", "i1", "i2", "b1", "b2"] : ["t1", "t2", "i1", "i2"];
        console.WriteLine(string.Join("  ", constants.Select(n => $"{n} = {Short(cols.First(col => col.Name == n).Value(c, table.Rows[0]))}")) +
            $"  η = {Short(c.LearningRate)}  ({table.Rows.Count} iterations)");
        string[][] slices =
        [
            ["w1", "w2", "w3", "w4", "h1", "a_h1", "h2", "a_h2"],
            ["w5", "w6", "w7", "w8", "o1", "a_o1", "o2", "a_o2"],
            ["E1", "E2", "E_tot", .. Enumerable.Range(1, 8).Select(k => $"dE/dw{k}")],
        ];
        foreach (var slice in slices)
        {
            var t = new Table().Border(TableBorder.Simple);
            t.AddColumn(new Spectre.Console.TableColumn("k").RightAligned());
            foreach (var name in slice) t.AddColumn(new Spectre.Console.TableColumn(Markup.Escape(name)).RightAligned());
            var picked = slice.Select(name => cols.First(col => col.Name == name)).ToList();
            foreach (var row in table.Rows)
                t.AddRow([row.Iteration.ToString(System.Globalization.CultureInfo.InvariantCulture), .. picked.Select(col => Short(col.Value(c, row)))]);
            console.Write(t);
        }
    }
}
