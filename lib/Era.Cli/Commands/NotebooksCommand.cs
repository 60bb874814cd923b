using System.CommandLine;
using Era.Cli.Notebooks;

namespace Era.Cli.Commands;

/// <summary>
/// `era notebooks run [FILES...] [--quick] [--out DIR | --in-place] [--timeout-per-cell S]` executes notebooks on the
/// real .NET Interactive kernel; `era notebooks pack` builds the library the notebooks load; `era notebooks export`
/// writes each notebook as a C# file-based app.
/// </summary>
internal static class NotebooksCommand
{
    public static Command Create()
    {
        var command = new Command("notebooks", "Run the course notebooks on the real .NET Interactive kernel, or build the library they load.");
        command.Subcommands.Add(CreateRun());
        command.Subcommands.Add(CreatePack());
        command.Subcommands.Add(CreateExport());
        return command;
    }

    private static Command CreateRun()
    {
        var files = new Argument<string[]>("files") { Description = "notebooks to run (default: every notebooks/*.ipynb, in order)", Arity = ArgumentArity.ZeroOrMore };
        var quick = new Option<bool>("--quick") { Description = "set ERA_QUICK=1: the notebooks make long cells short (a few batches, a data subset)" };
        var outDir = new Option<string?>("--out") { Description = "write the executed notebooks into this folder (created if missing)" };
        var inPlace = new Option<bool>("--in-place") { Description = "overwrite each notebook with its executed copy (only when every cell succeeded)" };
        var timeout = new Option<int>("--timeout-per-cell") { Description = "seconds one cell may run before it is stopped and reported", DefaultValueFactory = _ => 1800 };
        timeout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 86_400) r.AddError("--timeout-per-cell: give seconds from 1 to 86400");
        });
        var command = new Command("run",
            "Execute notebooks cell by cell, each in its own kernel (the dotnet-interactive tool of dotnet-tools.json, driven by "
            + "Jupyter's nbclient). A failing or timed-out cell stops that notebook: exit 1, naming the notebook and cell. "
            + "The executed notebook is written atomically, only when every cell succeeded.");
        command.Arguments.Add(files);
        command.Options.Add(quick);
        command.Options.Add(outDir);
        command.Options.Add(inPlace);
        command.Options.Add(timeout);
        command.Validators.Add(r =>
        {
            bool hasOut = r.GetResult(outDir) is not null, hasInPlace = r.GetValue(inPlace);
            if (hasOut == hasInPlace) r.AddError("notebooks run: give exactly one of --out DIR and --in-place");
        });
        Cli.SetHandler(command, parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var notebooks = parse.GetValue(files) is { Length: > 0 } given ? given : DefaultNotebooks();
                var results = NotebookRunner.Run(new NotebookRunOptions
                {
                    Notebooks = notebooks,
                    Quick = parse.GetValue(quick),
                    OutputDirectory = parse.GetValue(outDir),
                    InPlace = parse.GetValue(inPlace),
                    CellTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                }, output);
                foreach (var failed in results.Where(r => !r.Ok))
                    error.WriteLine($"era: notebooks: {NotebookRunner.Describe(failed)}");
                return results.All(r => r.Ok) ? Cli.ExitOk : Cli.ExitFindings;
            }
            catch (NotebookRunException e)
            {
                error.WriteLine($"era: notebooks: {e.Message}");
                return Cli.ExitUsage;
            }
        });
        return command;
    }

    private static Command CreatePack()
    {
        var command = new Command("pack",
            $"Pack lib/Era and lib/Era.Notebooks ({NotebookPackages.Version}) into the local NuGet feed the notebooks' first cell loads "
            + $"(~/.nuget/{NotebookPackages.SourceName}, registered as the user's NuGet source '{NotebookPackages.SourceName}'). `notebooks run` does this first.");
        Cli.SetHandler(command, parse =>
        {
            try
            {
                NotebookPackages.Pack(NotebookRunner.RepositoryRoot(Directory.GetCurrentDirectory()), parse.InvocationConfiguration.Output);
                return Cli.ExitOk;
            }
            catch (Exception e) when (e is NotebookRunException or InvalidOperationException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"era: notebooks pack: {e.Message}");
                return Cli.ExitUsage;
            }
        });
        return command;
    }

    private static Command CreateExport()
    {
        var files = new Argument<string[]>("files") { Description = "notebooks to export (default: every notebooks/*.ipynb)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("export",
            "Write each notebook as a C# file-based app, notebooks/apps/NN-name.cs (`dotnet run notebooks/apps/NN-name.cs`): markdown as "
            + "comments, #r \"nuget: Era.…\" as #:project, each trailing expression and display(…) as Show(…), which prints the text and "
            + "writes figures to notebooks/out/NN-name/. A cell it cannot translate is named, and nothing is written.");
        command.Arguments.Add(files);
        Cli.SetHandler(command, parse =>
        {
            try
            {
                foreach (var app in NotebookExport.Export(parse.GetValue(files) is { Length: > 0 } given ? given : DefaultNotebooks()))
                    parse.InvocationConfiguration.Output.WriteLine($"wrote {Path.GetRelativePath(Directory.GetCurrentDirectory(), app)}");
                return Cli.ExitOk;
            }
            catch (Exception e) when (e is NotebookExportException or NotebookRunException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"era: notebooks export: {e.Message}");
                return Cli.ExitUsage;
            }
        });
        return command;
    }

    /// <summary>notebooks/*.ipynb of the checkout that holds the current folder, in file-name order (01-…, 02-…).</summary>
    private static string[] DefaultNotebooks()
    {
        string root = NotebookRunner.RepositoryRoot(Directory.GetCurrentDirectory());
        return Directory.GetFiles(Path.Combine(root, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal).ToArray();
    }
}
