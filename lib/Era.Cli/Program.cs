using System.CommandLine;
using Era.Cli;
using Era.Cli.Commands;

// `./era <verb> ...`: each verb lives in Commands/<Verb>Command.cs and is registered here.
var root = new RootCommand("era: the course's command line — backprop by hand, workbooks, figures and the training engine.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
return Cli.Invoke(root, args);
