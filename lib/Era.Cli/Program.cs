using Era.Cli;

// `./era <verb> ...`: each verb lives in Commands/<Verb>Command.cs and is listed in Commands/CommandCatalog.cs.
return Cli.Run(args);
