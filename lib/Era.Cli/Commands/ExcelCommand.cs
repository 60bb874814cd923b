using System.CommandLine;
using Era.Backprop;
using Era.Excel.Writing;

namespace Era.Cli.Commands;

/// <summary>`era excel --out FILE.xlsx`: the iteration table as a live workbook (formulas, cached values, charts).</summary>
internal static class ExcelCommand
{
    public static Command Create()
    {
        var command = new Command("excel",
            "Write the course workbook: the network's inputs as editable cells, the iteration table and a learning-rate "
            + "comparison as live formulas (with the values era computed cached), and charts of E_total.");
        var network = new NetworkOptions(BackpropWorkbook.MaxIterations);
        network.AddTo(command);
        var output = new Option<string?>("--out") { Description = "the .xlsx file to write (required; replaced atomically; a missing folder is created, and era says so)" };
        var rates = NetworkOptions.LearningRatesOption("learning rates of the Compare sheet, each > 0 (default 0.1,0.2,0.5,0.8,1,2)");
        command.Options.Add(output);
        command.Options.Add(rates);

        Cli.SetHandler(command, parse =>
        {
            string path = parse.GetValue(output) ?? throw new UsageException("--out", "required: the .xlsx file to write");
            if (string.IsNullOrWhiteSpace(path)) throw new UsageException("--out", "required: the .xlsx file to write");
            if (!path.EndsWith(".xlsx", StringComparison.OrdinalIgnoreCase))
                throw new UsageException("--out", $"'{path}' must end in .xlsx (spreadsheets pick the format by the name)");
            NetworkConfig config = network.Config(parse);
            int iterations = network.IterationCount(parse);
            if (iterations > BackpropWorkbook.MaxIterations)
                throw new UsageException("--iterations", $"a workbook holds at most {BackpropWorkbook.MaxIterations} rows, got {iterations}");
            var lrs = NetworkOptions.LearningRates(parse, rates);
            if (lrs.Count > BackpropWorkbook.MaxLearningRates)
                throw new UsageException("--lrs", $"at most {BackpropWorkbook.MaxLearningRates} learning rates, got {lrs.Count}");
            if (lrs.GroupBy(r => r).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new UsageException("--lrs", $"learning rate {Cli.Format(twice.Key)} is listed twice");

            try
            {
                Cli.CreateFolderFor(path, parse.InvocationConfiguration.Output);
                BackpropWorkbook.WriteFile(path, config, iterations, lrs);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException("--out", $"cannot write '{path}': {e.Message}");
            }
            catch (ArgumentException e)
            {
                throw new UsageException("excel", e.Message); // a value the options let through but the library rejects
            }
            parse.InvocationConfiguration.Output.WriteLine(
                $"wrote {path}: {iterations} iterations at η = {Cli.Format(config.LearningRate)}, "
                + $"compared at η = {string.Join(", ", lrs.Select(Cli.Format))}");
            return Cli.ExitOk;
        });
        return command;
    }
}
