using System.Globalization;
using System.Net;
using System.Text;
using Era.Data;
using Era.Engine.Training;
using Era.Figures;

namespace Era.Notebooks;

/// <summary>
/// Training as a notebook shows it: <c>TrainingDisplay.Attach(run)</c> puts one output under the cell that redraws in
/// place — a progress bar for the epoch, the running loss and accuracy, the learning rate, and a row per finished
/// epoch — instead of a line per batch. The helpers below turn a finished run into the course's figures.
/// </summary>
public static class TrainingDisplay
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Shows the run's progress live; returns the display (its <see cref="LiveDisplay.Current"/> is the last view).</summary>
    public static LiveDisplay Attach(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var live = LiveDisplay.Start(Html(run, null));
        run.OnBatch = p => live.Update(Html(run, p));
        run.OnEpoch = _ => live.Update(Html(run, null), force: true);
        return live;
    }

    /// <summary>The view: finished epochs as a table, and the batch in progress (if any) as a bar.</summary>
    public static string Html(TrainingRun run, TrainingProgress? progress)
    {
        ArgumentNullException.ThrowIfNull(run);
        var html = new StringBuilder();
        html.Append(Inv, $"<div><b>{WebUtility.HtmlEncode(run.Recipe.Model)}</b>: {run.Parameters:N0} parameters, ")
            .Append(Inv, $"{run.TrainLoader.Dataset.Count:N0} training and {run.TestLoader.Dataset.Count:N0} test images, ")
            .Append(Inv, $"{run.Recipe.Epochs} epochs of {run.TrainLoader.Count} batches of {run.Recipe.BatchSize}</div>\n");
        if (progress is { } p)
        {
            html.Append(Inv, $"<div>epoch {p.Epoch}/{run.Recipe.Epochs} <progress value=\"{p.Batch}\" max=\"{p.BatchesPerEpoch}\"></progress> ")
                .Append(Inv, $"batch {p.Batch}/{p.BatchesPerEpoch} · loss {p.EpochLoss:F4} · accuracy {100 * p.EpochAccuracy:F2}% · lr {p.LearningRate:G3}</div>\n");
        }
        if (run.History.Count > 0)
        {
            html.Append("<table><thead><tr><th>epoch</th><th>lr</th><th>train loss</th><th>train acc</th><th>test loss</th><th>test acc</th><th>seconds</th></tr></thead><tbody>\n");
            foreach (var e in run.History)
                html.Append(Inv, $"<tr><td>{e.Epoch}</td><td>{e.LearningRate:G3}</td><td>{e.TrainLoss:F4}</td><td>{100 * e.TrainAccuracy:F2}%</td>")
                    .Append(Inv, $"<td>{e.TestLoss:F4}</td><td>{100 * e.TestAccuracy:F2}%</td><td>{e.Seconds:F1}</td></tr>\n");
            html.Append("</tbody></table>\n");
        }
        return html.ToString();
    }

    /// <summary>Loss and accuracy per epoch, train and test.</summary>
    public static Figure Curves(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var h = run.History;
        return Charts.TrainingCurves(new TrainingHistory(
            h.Select(e => e.TrainLoss).ToList(), h.Select(e => e.TestLoss ?? double.NaN).ToList(),
            h.Select(e => e.TrainAccuracy).ToList(), h.Select(e => e.TestAccuracy ?? double.NaN).ToList()),
            $"{run.Recipe.Model}: {run.Parameters:N0} parameters");
    }

    /// <summary>Images of a dataset as a grid, with captions (e.g. their labels).</summary>
    public static Figure Digits(TensorDataset data, IReadOnlyList<int> indices, IReadOnlyList<string>? captions = null, int columns = 8)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(indices);
        int size = data.SampleSize;
        // Back from normalized values to the files' 0..255 pixels: the figure then holds small integers, not 17-digit floats.
        var images = indices.Select(i => data.Images.Data.AsSpan(i * size, size).ToArray()
            .Select(v => (byte)Math.Clamp(Math.Round((v * Mnist.Std + Mnist.Mean) * 255), 0, 255)).ToArray()).ToList();
        return Charts.DigitGrid(images, captions ?? indices.Select(i => data.Labels[i].ToString(Inv)).ToList(), columns);
    }

    /// <summary>The test images the model got wrong, captioned "true 7 / predicted 1".</summary>
    public static Figure Misclassified(TensorDataset test, Evaluation evaluation, int max = 32)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        var wrong = evaluation.Misclassified.Take(max).ToList();
        return Digits(test, wrong.Select(m => m.Index).ToList(), wrong.Select(m => Charts.DigitCaption(m.Label, m.Prediction)).ToList());
    }
}
