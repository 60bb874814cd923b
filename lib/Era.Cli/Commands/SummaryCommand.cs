using System.CommandLine;
using Era.Data;
using Era.Engine;
using Era.Engine.Models;

namespace Era.Cli.Commands;

/// <summary>`era summary --model NAME`: torchsummary's table of a model for 1×28×28 images, with each layer's receptive field, jump and multiply-adds.</summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = $"Model: {string.Join(", ", ModelZoo.Names)}", DefaultValueFactory = _ => ModelZoo.Default };
        var command = new Command("summary", "Layers, output shapes, parameters, receptive field and multiply-adds of a model");
        command.Options.Add(model);
        Cli.SetHandler(command, parse =>
        {
            string name = parse.GetValue(model)!;
            if (!ModelZoo.Exists(name)) throw new UsageException("--model", $"unknown model '{name}' (available: {string.Join(", ", ModelZoo.Names)})");
            parse.InvocationConfiguration.Output.Write(Summary.summary(ModelZoo.Create(name, seed: 0), 1, Mnist.ImageSize, Mnist.ImageSize).ToText());
            return Cli.ExitOk;
        });
        return command;
    }
}
