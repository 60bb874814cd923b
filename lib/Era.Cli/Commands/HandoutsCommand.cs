using System.CommandLine;
using System.Globalization;
using Era.Cli.Notebooks;
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
        var run = new Option<bool>("--run") { Description = "execute the notebooks first on the real kernel (as `era notebooks run`) and hand out those outputs" };
        var quick = new Option<bool>("--quick") { Description = "with --run: ERA_QUICK=1, the long cells made short (a check, not a handout)" };
        command.Options.Add(output);
        command.Options.Add(notebooks);
        command.Options.Add(run);
        command.Options.Add(quick);

        Cli.SetHandler(command, parse =>
        {
            string dir = parse.GetValue(output) ?? "";
            if (string.IsNullOrWhiteSpace(dir)) throw new UsageException("--out", "required: the folder to write the handouts to");
            if (parse.GetValue(quick) && !parse.GetValue(run)) throw new UsageException("--quick", "only with --run");
            string? executed = null;
            var options = new HandoutsOptions
            {
                NotebooksDirectory = parse.GetValue(notebooks)!,
                OutputDirectory = dir,
                Execute = parse.GetValue(run) ? d => executed = Execute(d, parse.GetValue(quick), parse.InvocationConfiguration.Output) : null,
            };
            HandoutsResult result;
            try
            {
                result = Handouts.Handouts.Write(options);
            }
            catch (NotebookRunException e)
            {
                parse.InvocationConfiguration.Error.WriteLine($"era: handouts: {e.Message}");
                return Cli.ExitFindings;
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
            finally
            {
                if (executed is not null) Directory.Delete(executed, recursive: true);
            }
            var stdout = parse.InvocationConfiguration.Output;
            stdout.WriteLine($"wrote {result.OutputDirectory}:");
            foreach (var (file, bytes) in result.Files)
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {file,-28} {bytes / 1024.0,9:0.0} KB"));
            return Cli.ExitOk;
        });
        return command;
    }

    /// <summary>Runs every notebook of <paramref name="notebooksDirectory"/> into a temporary folder; a failing cell stops the handouts.</summary>
    private static string Execute(string notebooksDirectory, bool quick, TextWriter log)
    {
        string temp = Directory.CreateTempSubdirectory("era-handouts-run-").FullName;
        var results = NotebookRunner.Run(new NotebookRunOptions
        {
            Notebooks = Directory.GetFiles(notebooksDirectory, "*.ipynb").Order(StringComparer.Ordinal).ToArray(),
            Quick = quick,
            OutputDirectory = temp,
        }, log);
        if (results.FirstOrDefault(r => !r.Ok) is { } failed)
        {
            Directory.Delete(temp, recursive: true);
            throw new NotebookRunException(NotebookRunner.Describe(failed));
        }
        return temp;
    }
}
