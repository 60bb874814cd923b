using System.CommandLine;

namespace Era.Cli.Commands;

/// <summary>Every verb of `./era`, in the order `--help` lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return SetupCommand.Create();
        yield return BackpropCommand.Create();
        yield return DeriveCommand.Create();
        yield return ExcelCommand.Create();
        yield return CheckSheetCommand.Create();
        yield return PlotCommand.Create();
        yield return HandoutsCommand.Create();
        yield return BenchCommand.Create();
        yield return TrainCommand.Create();
        yield return EvaluateCommand.Create();
        yield return SummaryCommand.Create();
        yield return NotebooksCommand.Create();
    }
}
