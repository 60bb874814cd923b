using System.CommandLine;
using System.Globalization;
using Era.Engine;
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
        var data = new Option<string?>("--data") { Description = "MNIST directory (default: $MNIST_DIR, then the cache data/mnist)" };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: all processors)" };
        var limitTest = new Option<int?>("--limit-test") { Description = "Evaluate on the first N test images only" };
        var json = new Option<string?>("--json") { Description = "Also write the accuracy, confusion matrix and misclassified images here (JSON)" };

        var command = new Command("evaluate", "Test accuracy, confusion matrix and misclassified images of a saved model");
        Option<string> engine = Torch.TorchCli.EngineOption();
        Option<string?> device = Torch.TorchCli.DeviceOption();
        foreach (var o in new Option[] { weights, model, data, threads, limitTest, json, engine, device }) command.Options.Add(o);
        Cli.SetHandler(command, parse => Torch.TorchCli.Selected(parse, engine)
            ? Torch.TorchCli.Evaluate(parse.GetValue(model) ?? ModelNameOf(parse.GetValue(weights)!), parse.GetValue(weights)!, parse.GetValue(data),
                parse.GetValue(device), parse.GetValue(threads), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error)
            : Run(parse.GetValue(weights)!, parse.GetValue(model), parse.GetValue(data), parse.GetValue(threads),
            parse.GetValue(limitTest), parse.GetValue(json), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>The model a checkpoint names in its metadata (era train writes it), else the default; a bad file is reported later.</summary>
    private static string ModelNameOf(string weights)
    {
        try
        {
            Safetensors.Read(weights, out var metadata);
            return metadata.TryGetValue("model", out var name) && ModelZoo.Exists(name) ? name : ModelZoo.Default;
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            return ModelZoo.Default;
        }
    }

    private static int Run(string weights, string? modelName, string? dataDir, int? threads, int? limitTest, string? json, TextWriter output, TextWriter error)
    {
        if (modelName is not null && !ModelZoo.Exists(modelName)) throw new UsageException("--model", $"unknown model '{modelName}' (available: {string.Join(", ", ModelZoo.Names)})");
        if (!File.Exists(weights)) throw new UsageException("--weights", $"file '{weights}' does not exist");
        if (threads is < 1 or > 1024) throw new UsageException("--threads", $"must be between 1 and 1024, got {threads}");
        if (limitTest is < 1) throw new UsageException("--limit-test", $"must be at least 1, got {limitTest}");
        MnistData.CheckOption(dataDir);
        TrainCommand.CheckOutput("--json", json);
        torch.set_num_threads(threads ?? Environment.ProcessorCount);

        MnistNet<float> net;
        try
        {
            net = ModelZoo.Load(weights, modelName);
        }
        catch (CheckpointException problem)
        {
            error.WriteLine($"era: evaluate: {problem.Message}");
            return Cli.ExitFindings;
        }
        if (!MnistData.TryLoad("evaluate", dataDir, error, out string dir, out _, out var test)) return Cli.ExitFindings;
        if (limitTest is int n) test = test.Take(n);
        var recipe = Recipe.For(net.Name);
        var e = Trainer.Evaluate(net, recipe.CreateTestLoader(test));
        error.WriteLine(string.Create(Inv, $"evaluate: model {net.Name} from {weights} on {test.Count} test images from {dir}"));

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
            int code = TrainCommand.Save(error, "evaluation", json, () => Era.IO.AtomicFile.WriteAllText(json, EvaluationJson(net.Name, weights, e)));
            if (code != Cli.ExitOk) return code;
        }
        output.WriteLine(string.Create(Inv, $"test_acc {100 * e.Accuracy:F2}"));
        return Cli.ExitOk;
    }

    private static string EvaluationJson(string model, string weights, Evaluation e)
    {
        using var stream = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(stream, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteString("weights", weights);
            w.WriteNumber("test_images", e.Count);
            w.WriteNumber("test_loss", e.Loss);
            w.WriteNumber("test_acc", 100 * e.Accuracy);
            TrainingRun.WriteEvaluation(w, e);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
