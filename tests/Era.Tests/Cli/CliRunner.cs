using System.CommandLine;
using Era.Cli;
using Era.Cli.Commands;

namespace Era.Tests.Cli;

/// <summary>Runs `./era ...` in-process, the way Program.cs does, capturing stdout and stderr.</summary>
internal static class CliRunner
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand("era");
        foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Era.Cli.Cli.Invoke(root, args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
