using System.CommandLine;
using System.Globalization;
using Era.Handouts;

namespace Era.Cli.Commands;

/// <summary>
/// `era handouts --out DIR [--notebooks DIR]`: the course as files for students (see <see cref="Handouts.Handouts"/>):
/// a page per notebook, an index, the workbook and the check-sheet guide. DIR is replaced as a whole or not at all.
/// </summary>
internal static class HandoutsCommand
{
    public static Command Create()
    {
        var command = new Command("handouts",
            "Write the course handouts into a folder: one standalone page per notebook (math, interactive figures, print "
            + "style; works offline), an index, the backprop workbook and a guide to check-sheet. The folder is replaced atomically.");
        var output = new Option<string?>("--out") { Description = "the folder to write (required; created, or replaced if era wrote it before)" };
        var notebooks = new Option<string>("--notebooks")
        {
            Description = "the folder of executed notebooks (*.ipynb, in file-name order)",
            DefaultValueFactory = _ => "notebooks",
        };
        command.Options.Add(output);
        command.Options.Add(notebooks);
        // The seam for `--run`: an option that sets HandoutsOptions.Execute to the notebook runner, which executes the
        // notebooks into a temporary folder and returns it; the handouts are then written from the fresh outputs.

        Cli.SetHandler(command, parse =>
        {
            string dir = parse.GetValue(output) ?? "";
            if (string.IsNullOrWhiteSpace(dir)) throw new UsageException("--out", "required: the folder to write the handouts to");
            var options = new HandoutsOptions { NotebooksDirectory = parse.GetValue(notebooks)!, OutputDirectory = dir };
            HandoutsResult result;
            try
            {
                result = Handouts.Handouts.Write(options);
            }
            catch (HandoutException e)
            {
                parse.InvocationConfiguration.Error.WriteLine($"era: handouts: {e.Message}");
                return Cli.ExitFindings;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"era: handouts: cannot write {dir}: {e.Message}");
                return Cli.ExitFindings;
            }
            var stdout = parse.InvocationConfiguration.Output;
            stdout.WriteLine($"wrote {result.OutputDirectory}:");
            foreach (var (file, bytes) in result.Files)
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {file,-28} {bytes / 1024.0,9:0.0} KB"));
            return Cli.ExitOk;
        });
        return command;
    }
}
