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
        var command = parse.CommandResult.Command;
        // `./era` or `./era plot` alone: the list of verbs rather than "Required command was not provided".
        if (command.Subcommands.Count > 0 && command.Action is null && parse.UnmatchedTokens.Count == 0 && !args.Any(a => a.StartsWith('-')))
        {
            string[] path = args.TakeWhile(a => !a.StartsWith('-')).ToArray();
            return root.Parse([.. path, "--help"]).Invoke(config);
        }
        if (parse.Errors.Count > 0)
        {
            foreach (var line in ErrorLines(parse)) config.Error.WriteLine($"era: {line}");
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

    /// <summary>
    /// Parse errors in the course's words: an unknown verb or option gets the nearest known name, and System.CommandLine's
    /// type-conversion message ("as expected type 'System.Int32'") becomes "--epochs: 'x' is not a whole number".
    /// </summary>
    private static IEnumerable<string> ErrorLines(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var unmatched = parse.UnmatchedTokens.ToHashSet();
        bool suggested = false;
        foreach (var token in parse.UnmatchedTokens)
        {
            if (suggested) break; // one unknown word is enough; the rest usually follow from it
            suggested = true;
            if (token.StartsWith('-'))
            {
                var names = command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Distinct().ToList();
                yield return $"unknown option '{token}' for `{CommandPath(parse)}`" + Nearest(token, names)
                             + $" (see `{CommandPath(parse)} --help`)";
            }
            else if (command.Subcommands.Count > 0)
            {
                var names = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
                yield return $"unknown verb '{token}'" + Nearest(token, names) + $" (verbs: {string.Join(", ", names)})";
            }
            else
            {
                yield return $"unexpected argument '{token}' for `{CommandPath(parse)}` (see `{CommandPath(parse)} --help`)";
            }
        }
        foreach (var e in parse.Errors)
        {
            if (unmatched.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))) continue; // reported above
            if (suggested && e.Message == "Required command was not provided.") continue; // the unknown verb was it
            var m = System.Text.RegularExpressions.Regex.Match(e.Message,
                @"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'");
            if (m.Success)
            {
                // int? options say 'System.Nullable`1[System.Int32]': the same words as for int.
                string type = System.Text.RegularExpressions.Regex.Replace(m.Groups["type"].Value, @"^System\.Nullable`1\[(.*)\]$", "$1");
                string kind = type switch
                {
                    "System.Int32" or "System.Int64" => "a whole number",
                    "System.Double" or "System.Single" => "a number",
                    "System.Boolean" => "true or false",
                    var other => "a " + other.Split('.')[^1].ToLowerInvariant(),
                };
                yield return $"{m.Groups["option"].Value}: '{m.Groups["value"].Value}' is not {kind}";
            }
            else
            {
                yield return e.Message;
            }
        }
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Add(r.Command.Name);
        names.Reverse();
        return string.Join(" ", names);
    }

    /// <summary>"; did you mean 'backprop'?" for the closest name within a few edits, else "".</summary>
    private static string Nearest(string typed, IReadOnlyList<string> names)
    {
        var best = names.Select(n => (Name: n, Distance: Distance(typed.ToLowerInvariant(), n.ToLowerInvariant())))
            .OrderBy(p => p.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, typed.Length / 3) ? $"; did you mean '{best.Name}'?" : "";
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    public static int Distance(string a, string b)
    {
        var prev = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            var cur = new int[b.Length + 1];
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            prev = cur;
        }
        return prev[b.Length];
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

    /// <summary>
    /// The one rule for --out in every verb: a missing folder is created, and era says so (a mistyped path then shows
    /// at once instead of a file landing somewhere unexpected). A file where a folder should be is an error on --out.
    /// </summary>
    public static void CreateFolderFor(string path, TextWriter output)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is null || Directory.Exists(dir)) return;
        ExistingFolderFor(path);   // a file in the way is one line, before anything is made
        Directory.CreateDirectory(dir);
        output.WriteLine($"created folder {dir}");
    }

    /// <summary>
    /// The nearest folder of <paramref name="path"/> that exists (its own folder, else the closest one above), where
    /// <see cref="CreateFolderFor"/> would start making folders; throws <see cref="IOException"/> when a file stands
    /// where a folder should be.
    /// </summary>
    public static string ExistingFolderFor(string path)
    {
        string full = Path.GetFullPath(path);
        for (string? up = Path.GetDirectoryName(full); up is not null; up = Path.GetDirectoryName(up))
        {
            if (Directory.Exists(up)) return up;
            if (File.Exists(up)) throw new IOException($"'{up}' is a file, not a folder");
        }
        return Path.GetPathRoot(full) ?? "/";
    }

    public static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
