using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;

namespace Era.Cli;

/// <summary>Bad command-line input: reported as one line on stderr naming the option, exit code 2.</summary>
public sealed class UsageException(string option, string message) : Exception(message)
{
    public string Option { get; } = option;
}

/// <summary>Running commands and parsing option values the same way in every verb.</summary>
public static class Cli
{
    public const int ExitOk = 0;
    public const int ExitFindings = 1;
    public const int ExitUsage = 2;

    /// <summary>The `era` command with every verb. A plain Command named "era" (a RootCommand would take its name
    /// from the assembly, Era.Cli) with the help and version options a RootCommand has.</summary>
    public static Command BuildRoot()
    {
        var root = new Command("era", "The course's command line: backprop by hand, workbooks, figures and the training engine.");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        foreach (var command in Commands.CommandCatalog.All())
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>Runs `era` with these arguments; tests call this in-process with their own writers.</summary>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null) =>
        Invoke(BuildRoot(), args, stdout, stderr);

    /// <summary>Parses and runs; parse errors and <see cref="UsageException"/> become one stderr line and exit 2.</summary>
    public static int Invoke(Command root, string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var config = new InvocationConfiguration
        {
            Output = stdout ?? Console.Out,
            Error = stderr ?? Console.Error,
            // Let UsageException reach the catch below instead of System.CommandLine's "Unhandled exception" report.
            EnableDefaultExceptionHandler = false,
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) config.Error.WriteLine($"era: {e.Message}");
            return ExitUsage;
        }
        try
        {
            return parse.Invoke(config);
        }
        catch (UsageException e)
        {
            config.Error.WriteLine($"era: {e.Option}: {e.Message}");
            return ExitUsage;
        }
    }

    /// <summary>Wraps a verb's body so a <see cref="UsageException"/> thrown inside it reaches <see cref="Invoke"/>.</summary>
    public static void SetHandler(Command command, Func<ParseResult, int> action) =>
        command.SetAction(parse => action(parse));

    public static double ParseDouble(string option, string text)
    {
        if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            throw new UsageException(option, $"'{text.Trim()}' is not a number");
        if (!double.IsFinite(v))
            throw new UsageException(option, $"'{text.Trim()}' is not a finite number");
        return v;
    }

    /// <summary>Parses "a,b,c" into numbers; with <paramref name="count"/>, exactly that many.</summary>
    public static double[] ParseDoubles(string option, string text, int? count = null)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 1 && parts[0].Length == 0) parts = [];
        if (count is int n && parts.Length != n)
            throw new UsageException(option, $"expected {n} comma-separated numbers, got {parts.Length}");
        if (parts.Length == 0)
            throw new UsageException(option, "expected at least one number");
        return parts.Select(p => ParseDouble(option, p)).ToArray();
    }

    public static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
