using System.CommandLine;
using Era.Excel.Checking;

namespace Era.Cli.Commands;

/// <summary>
/// `era check-sheet FILE.xlsx [--sheet NAME] [--json]`: checks a student's iteration table cell by cell.
/// Exit 0 all correct, 1 findings, 2 unreadable file or no table. Reads only; writes nothing.
/// </summary>
internal static class CheckSheetCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "the student's workbook (.xlsx)" };
        var sheet = new Option<string?>("--sheet") { Description = "the sheet holding the table (default: the sheet whose header row names the most course columns)" };
        var json = new Option<bool>("--json") { Description = "print the verdict as JSON: {ok, sheet, learningRate, findings: [{cell, row, column, found, expected, formula, kind}]}" };
        var command = new Command("check-sheet",
            "Check a student's backprop spreadsheet: finds the table by its header row, recomputes every cell from its own row "
            + "and reports each wrong cell with the formula it should hold. Exit 0 correct, 1 findings, 2 unreadable or no table.");
        command.Arguments.Add(file);
        command.Options.Add(sheet);
        command.Options.Add(json);
        Cli.SetHandler(command, parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            string path = parse.GetValue(file) ?? "";
            bool asJson = parse.GetValue(json);
            CheckReport report;
            try
            {
                report = SheetChecker.Check(path, parse.GetValue(sheet));
            }
            catch (SheetCheckException e)
            {
                if (asJson) output.WriteLine(CheckReport.ErrorJson(e.Message));
                error.WriteLine($"era: {path}: {e.Message}");
                return Cli.ExitUsage;
            }
            catch (Exception e)
            {
                // A bug of ours, not the student's: one line that names it, never a stack trace.
                string message = $"internal error: {e.GetType().Name}: {e.Message}";
                if (asJson) output.WriteLine(CheckReport.ErrorJson(message));
                error.WriteLine($"era: {path}: {message}");
                return Cli.ExitUsage;
            }
            output.Write(asJson ? report.ToJson() + Environment.NewLine : report.ToText());
            return report.Ok ? Cli.ExitOk : Cli.ExitFindings;
        });
        return command;
    }
}
