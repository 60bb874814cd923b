using System.CommandLine;
using System.Globalization;
using Era.Backprop;
using Era.Figures;

namespace Era.Cli.Commands;

/// <summary>
/// `era plot lr|network --out FILE.(html|png|svg)`: the course's figures as a standalone page (plotly.js inlined,
/// works offline) or a static image exported by headless Chromium. The file's extension picks the format.
/// </summary>
internal static class PlotCommand
{
    private const int MaxPlotIterations = 100_000;

    public static Command Create()
    {
        var plot = new Command("plot", "Figures as .html (interactive, offline), .png or .svg: learning-rate curves, the network diagram");
        plot.Subcommands.Add(LearningRates());
        plot.Subcommands.Add(Network());
        return plot;
    }

    private static Command LearningRates()
    {
        var command = new Command("lr", "E_total vs iteration for several learning rates (the course's six by default)");
        var network = new NetworkOptions(MaxPlotIterations);
        network.AddTo(command, withLearningRate: false);
        var lrs = NetworkOptions.LearningRatesOption("learning rates, comma-separated, each > 0 (default 0.1,0.2,0.5,0.8,1,2)");
        var log = new Option<bool>("--log") { Description = "E_total on a log axis" };
        var grid = new Option<bool>("--grid") { Description = "small multiples: one chart per learning rate" };
        command.Options.Add(lrs);
        command.Options.Add(log);
        command.Options.Add(grid);
        var output = new OutputOptions(command);
        Cli.SetHandler(command, parse =>
        {
            var target = output.Resolve(parse);
            var config = network.Config(parse);
            int iterations = network.IterationCount(parse);
            if (iterations > MaxPlotIterations)
                throw new UsageException("--iterations", $"at most {MaxPlotIterations} for a plot (every iteration is a point the browser draws), got {iterations}");
            var rates = NetworkOptions.LearningRates(parse, lrs);
            var tables = LearningRateSweep.Run(config, rates, iterations);
            var figure = parse.GetValue(grid)
                ? Charts.LearningRateGrid(tables, parse.GetValue(log))
                : Charts.LearningRates(tables, parse.GetValue(log));
            return Write(parse, figure, target);
        });
        return command;
    }

    private static Command Network()
    {
        var command = new Command("network", "The 2-2-2 network with its weights on the edges: the initial weights, or with "
            + "--iterations N the weights after N gradient-descent steps");
        var network = new NetworkOptions();
        network.AddTo(command, withIterations: false);
        var steps = TypedOptions.Int("--iterations",
            $"gradient-descent steps before drawing the weights, 0 to {NetworkOptions.MaxIterations} (default 0: the initial weights)",
            0, NetworkOptions.MaxIterations, 0);
        command.Options.Add(steps);
        var output = new OutputOptions(command);
        Cli.SetHandler(command, parse =>
        {
            var target = output.Resolve(parse);
            var config = network.Config(parse);
            int n = parse.GetValue(steps);
            Figure figure;
            if (n == 0)
            {
                figure = Charts.Network(config);
            }
            else
            {
                // Row k holds the weights used at iteration k; one more step gives the weights after n updates.
                var last = IterationTable.Stream(config, n).Last();
                var trained = last.Weights.Step(last.Gradients, config.LearningRate);
                figure = Charts.Network(config, trained,
                    $"2-2-2 network after {n.ToString(CultureInfo.InvariantCulture)} steps at η = {Cli.Format(config.LearningRate)}");
            }
            return Write(parse, figure, target);
        });
        return command;
    }

    private static int Write(ParseResult parse, Figure figure, (string Path, FigureFormat Format, int? Width, int? Height) target)
    {
        var stderr = parse.InvocationConfiguration.Error;
        try
        {
            Cli.CreateFolderFor(target.Path, parse.InvocationConfiguration.Output);
            FigureFile.Save(figure, target.Path, target.Width, target.Height);
        }
        catch (FigureRenderException e)
        {
            stderr.WriteLine($"era: plot: {e.Message}");
            return Cli.ExitFindings;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"era: --out: cannot write '{target.Path}': {e.Message}");
            return Cli.ExitFindings;
        }
        parse.InvocationConfiguration.Output.WriteLine($"wrote {target.Path} ({target.Format.ToString().ToLowerInvariant()})");
        return Cli.ExitOk;
    }

    /// <summary>--out (required; .html, .png or .svg), --width, --height.</summary>
    private sealed class OutputOptions
    {
        private readonly Option<string?> _out = new("--out") { Description = "the file to write: .html, .png or .svg (a missing folder is created, and era says so)" };
        private readonly Option<int?> _width = TypedOptions.OptionalInt("--width", "width in pixels, 50 to 10000 (default: the figure's own)", 50, 10_000, "pixels");
        private readonly Option<int?> _height = TypedOptions.OptionalInt("--height", "height in pixels, 50 to 10000 (default: the figure's own)", 50, 10_000, "pixels");

        public OutputOptions(Command command)
        {
            command.Options.Add(_out);
            command.Options.Add(_width);
            command.Options.Add(_height);
        }

        /// <summary>Checks the options before any work is done.</summary>
        public (string Path, FigureFormat Format, int? Width, int? Height) Resolve(ParseResult parse)
        {
            if (parse.GetValue(_out) is not { Length: > 0 } path)
                throw new UsageException("--out", "required: the file to write (.html, .png or .svg)");
            FigureFormat format;
            try { format = FigureFile.FormatOf(path); }
            catch (ArgumentException e) { throw new UsageException("--out", e.Message.Split(" (Parameter")[0]); }
            return (path, format, parse.GetValue(_width), parse.GetValue(_height));
        }
    }
}
