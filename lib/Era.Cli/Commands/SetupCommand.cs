using System.CommandLine;
using Era.Cli.Notebooks;
using Era.Cli.Setup;

namespace Era.Cli.Commands;

/// <summary>`./era setup [--check] [--sudo] [--remove-kernelspec]`: installs what the course needs beyond the .NET SDK (the list lives in
/// Setup/Requirements.cs).</summary>
internal static class SetupCommand
{
    public static Command Create(Func<ISetupHost>? host = null)
    {
        var check = new Option<bool>("--check") { Description = "list what is missing and install nothing (exit 1 if anything is)" };
        var sudo = new Option<bool>("--sudo") { Description = "not root: run apt-get through sudo (without it, era prints the sudo command)" };
        var remove = new Option<bool>("--remove-kernelspec") { Description = $"remove the Jupyter kernelspec {Kernelspec.Name} that setup installed, and nothing else" };
        var command = new Command("setup",
            "Install what is missing, and only that: the apt packages (" + string.Join(" ", Requirements.AptPackages.Select(p => p.Package))
            + "; npm only if there is none), `npm ci --prefix lib/web`, `dotnet tool restore`, the user's Jupyter kernelspec "
            + Kernelspec.Name + " and the notebooks' library. Says each command first; safe to run again.");
        command.Options.Add(check);
        command.Options.Add(sudo);
        command.Options.Add(remove);
        Cli.SetHandler(command, parse =>
        {
            if (parse.GetValue(remove))
            {
                string folder = Kernelspec.Folder();
                parse.InvocationConfiguration.Output.WriteLine(Kernelspec.Remove()
                    ? $"era setup: removed the kernelspec {Kernelspec.Name} ({folder})" : $"era setup: no kernelspec {Kernelspec.Name} in {folder}, nothing to remove");
                return Cli.ExitOk;
            }
            var machine = host?.Invoke() ?? new SystemSetupHost(SystemSetupHost.FindRoot());
            var config = parse.InvocationConfiguration;
            return parse.GetValue(check)
                ? Installer.Check(machine, config.Output)
                : Installer.Install(machine, parse.GetValue(sudo), config.Output, config.Error);
        });
        return command;
    }
}
