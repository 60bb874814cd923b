using System.CommandLine;
using System.Globalization;
using Era.Engine.Checkpoints;
using Era.Engine.Models;
using Era.Engine.Training;

namespace Era.Cli.Commands;

/// <summary>
/// `era evaluate --weights FILE`: loads a checkpoint into its model (named by --model, else by the file's metadata)
/// and prints the test loss, the confusion matrix, the misclassified test images (index, label, prediction) and, last,
/// `test_acc X` (percent).
/// </summary>
internal static class EvaluateCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var weights = new Option<string>("--weights") { Description = "The checkpoint (safetensors, as era train --out writes it)", Required = true };
        var model = new Option<string?>("--model") { Description = $"Model of the checkpoint: {string.Join(", ", ModelZoo.Names)} (default: the one the file names, else {ModelZoo.Default})" };
        var limitTest = TypedOptions.OptionalInt("--limit-test", "Evaluate on the first N test images only", 1, int.MaxValue);
        var json = new Option<string?>("--json") { Description = "Also write the accuracy, confusion matrix and misclassified images here (JSON)" };
        var engine = new EngineOptions();

        var command = new Command("evaluate", "Test accuracy, confusion matrix and misclassified images of a saved model");
        foreach (var o in new Option[] { weights, model, limitTest, json }) command.Options.Add(o);
        engine.AddTo(command);
        Cli.SetHandler(command, parse => Run(parse, engine, parse.GetValue(weights)!, parse.GetValue(model), parse.GetValue(limitTest), parse.GetValue(json)));
        return command;
    }

    private static int Run(ParseResult parse, EngineOptions engine, string weights, string? modelName, int? limitTest, string? json)
    {
        var (output, error) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        if (modelName is not null && !ModelZoo.Exists(modelName)) throw new UsageException("--model", $"unknown model '{modelName}' (available: {string.Join(", ", ModelZoo.Names)})");
        if (!File.Exists(weights)) throw new UsageException("--weights", $"file '{weights}' does not exist");
        engine.Check(parse);
        TrainCommand.CheckOutput("--json", json);
        if (!engine.Start(parse, "evaluate", 1, error, out var factory)) return Cli.ExitFindings;

        Recipe recipe;
        ITrainer trainer;
        try
        {
            recipe = ModelZoo.RecipeOf(weights, modelName);   // the model (and variant) the file names
            trainer = (factory ?? Trainer.ForRecipe)(recipe, 1);
            trainer.Load(weights);
        }
        catch (CheckpointException problem)
        {
            error.WriteLine($"era: evaluate: {problem.Message}");
            return Cli.ExitFindings;
        }
        string name = recipe.Model;
        if (!MnistData.TryLoadTest("evaluate", parse.GetValue(engine.Data), error, out string dir, out var test)) return Cli.ExitFindings;
        if (limitTest is int n) test = test.Take(n);
        var e = trainer.EvaluateDetailed(recipe.CreateTestLoader(test));
        error.WriteLine(string.Create(Inv, $"evaluate: model {name} from {weights} on {test.Count} test images from {dir}; engine {trainer.Engine}"));

        output.WriteLine(string.Create(Inv, $"test_loss {e.Loss:F4}"));
        output.WriteLine("confusion matrix (row: label, column: prediction)");
        int k = e.Confusion.GetLength(0);
        output.WriteLine("     " + string.Concat(Enumerable.Range(0, k).Select(c => c.ToString(Inv).PadLeft(6))));
        for (int r = 0; r < k; r++)
            output.WriteLine(r.ToString(Inv).PadLeft(5) + string.Concat(Enumerable.Range(0, k).Select(c => e.Confusion[r, c].ToString(Inv).PadLeft(6))));
        output.WriteLine(string.Create(Inv, $"misclassified {e.Misclassified.Count} (index:label->prediction)"));
        foreach (var chunk in e.Misclassified.Chunk(10))
            output.WriteLine("  " + string.Join(" ", chunk.Select(m => string.Create(Inv, $"{m.Index}:{m.Label}->{m.Prediction}"))));
        if (json is not null)
        {
            int code = TrainCommand.Save(error, "evaluation", json, () =>
            {
                Cli.CreateFolderFor(json, error);
                Era.IO.AtomicFile.WriteAllText(json, TrainingJson.Of(e, name, trainer.Engine, weights));
            });
            if (code != Cli.ExitOk) return code;
        }
        output.WriteLine(string.Create(Inv, $"test_acc {100 * e.Accuracy:F2}"));
        return Cli.ExitOk;
    }
}
