using System.Diagnostics;
using Era.Data;
using Era.Engine.Layers;
using Era.Engine.Models;

namespace Era.Engine.Training;

/// <summary>
/// One row of a <see cref="StepProfile"/>: mean milliseconds per step forward and backward (or, for rows that are
/// neither, in <see cref="ForwardMs"/> alone). <see cref="Part"/> rows split the row above them (a block's convolution
/// and its BatchNorm2d → ReLU → Dropout) and are not counted again in the total.
/// </summary>
public sealed record ProfileRow(string Name, string Kind, double ForwardMs, double BackwardMs, bool HasBackward, bool Part)
{
    /// <summary>Forward and backward together.</summary>
    public double Ms => ForwardMs + BackwardMs;
}

/// <summary>
/// Where a training step's time goes, module by module. <see cref="Step"/> does exactly what
/// <see cref="Trainer.Step"/> does — zero_grad, forward, nll_loss, backward, optimizer and scheduler step, in the same
/// order on the same buffers, so the weights come out bit for bit the same — but runs an <see cref="MnistNet{T}"/>
/// child by child (each module of f, then flatten, fc, log_softmax; a <see cref="ConvBnReluDropout{T}"/> block in its
/// two halves, the convolution and BN → ReLU → Dropout) with a clock read between any two. Other models are timed
/// as one "model" row. <see cref="Run"/> also times the batch loading ("data").
/// <code>
///   var profile = new StepProfile(trainer);
///   profile.Run(loader, steps: 50);
///   foreach (var row in profile.Rows()) Console.WriteLine($"{row.Name} {row.ForwardMs:F2} {row.BackwardMs:F2}");
/// </code>
/// Reading the clock costs well under a microsecond, next to steps of tens of milliseconds.
/// </summary>
public sealed class StepProfile
{
    private readonly Trainer _trainer;
    private readonly Module<float>[] _modules;      // what runs forward, in order ("model" alone if not an MnistNet)
    private readonly string[] _names;
    private readonly long[] _forward, _backward;     // Stopwatch ticks, summed over the profiled steps
    private readonly long[] _convForward, _convBackward;   // the convolution part of a ConvBnReluDropout, else 0
    private long _loss, _optimizer, _data, _total;

    public StepProfile(Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        _trainer = trainer;
        if (trainer.Model is MnistNet<float> net)
        {
            var modules = new List<Module<float>>();
            var names = new List<string>();
            foreach (var (name, child) in net.f.NamedChildren())
            {
                modules.Add(child);
                names.Add("f." + name);
            }
            modules.AddRange([net.flatten, net.fc, net.log_softmax]);
            names.AddRange(["flatten", "fc", "log_softmax"]);
            _modules = [.. modules];
            _names = [.. names];
        }
        else
        {
            _modules = [trainer.Model];
            _names = ["model"];
        }
        _forward = new long[_modules.Length];
        _backward = new long[_modules.Length];
        _convForward = new long[_modules.Length];
        _convBackward = new long[_modules.Length];
    }

    public Trainer Trainer => _trainer;

    /// <summary>Profiled steps so far (since the last <see cref="Reset"/>).</summary>
    public int Steps { get; private set; }

    /// <summary>Batches whose loading was timed (by <see cref="Run"/>).</summary>
    public int Batches { get; private set; }

    /// <summary>Forgets the times measured so far.</summary>
    public void Reset()
    {
        foreach (var a in new[] { _forward, _backward, _convForward, _convBackward }) Array.Clear(a);
        _loss = _optimizer = _data = _total = 0;
        Steps = Batches = 0;
    }

    /// <summary>
    /// <paramref name="steps"/> profiled steps over <paramref name="loader"/> (its epochs repeat as needed), timing
    /// each batch's loading too. Returns the last step's result.
    /// </summary>
    public StepResult Run(DataLoader loader, int steps)
    {
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (loader.Count == 0) throw new ArgumentException("StepProfile.Run: the loader has no batches", nameof(loader));
        StepResult last = default;
        int done = 0;
        while (done < steps)
        {
            using var batches = loader.Epoch().GetEnumerator();
            while (done < steps)
            {
                long t = Stopwatch.GetTimestamp();
                bool more = batches.MoveNext();
                long loaded = Stopwatch.GetTimestamp();
                if (!more) break;
                _data += loaded - t;
                _total += loaded - t;
                Batches++;
                last = Step(batches.Current.Images, batches.Current.Labels);
                done++;
            }
        }
        return last;
    }

    /// <summary>One training step, as <see cref="Trainer.Step"/> (same result, same weights after), timed module by module.</summary>
    public StepResult Step(Tensor<float> images, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        var optimizer = _trainer.Optimizer;
        long step = _trainer.Steps + 1;
        double lr = optimizer.LearningRate;

        long start = Stopwatch.GetTimestamp();
        optimizer.zero_grad();
        long t = Stopwatch.GetTimestamp();
        _optimizer += t - start;

        // forward, child by child (MnistNet.ForwardNoCopy)
        var x = images;
        for (int i = 0; i < _modules.Length; i++)
        {
            if (_modules[i] is ConvBnReluDropout<float> block)
            {
                var z = block.Conv.Forward(x);
                long c = Stopwatch.GetTimestamp();
                _convForward[i] += c - t;
                x = block.ForwardAfterConv(z);
            }
            else x = _modules[i].ForwardNoCopy(x);
            long u = Stopwatch.GetTimestamp();
            _forward[i] += u - t;
            t = u;
        }
        var output = x;

        // loss and accuracy (Trainer.Step)
        var loss = F.nll_loss(output, labels, _trainer.LossGrad(output));
        if (!double.IsFinite(loss.Value)) throw new TrainingDivergedException(step, lr, loss.Value);
        int correct = Trainer.CountCorrect(output, labels);
        long v = Stopwatch.GetTimestamp();
        _loss += v - t;
        t = v;

        // backward, child by child in reverse (MnistNet.Backward)
        var g = loss.Grad;
        for (int i = _modules.Length - 1; i >= 0; i--)
        {
            if (_modules[i] is ConvBnReluDropout<float> block)
            {
                var dz = block.BackwardToConv(g);
                long c = Stopwatch.GetTimestamp();
                g = block.Conv.Backward(dz);
                _convBackward[i] += Stopwatch.GetTimestamp() - c;
            }
            else g = _modules[i].Backward(g);
            long u = Stopwatch.GetTimestamp();
            _backward[i] += u - t;
            t = u;
        }

        optimizer.step();
        _trainer.Scheduler?.step();
        long end = Stopwatch.GetTimestamp();
        _optimizer += end - t;
        _total += end - start;
        _trainer.Steps = step;
        Steps++;
        return new StepResult(step, loss.Value, correct, labels.Length, lr);
    }

    /// <summary>Mean milliseconds per profiled step of everything measured: the sum of the rows that are not parts (the clock is read once between any two, so nothing falls in between).</summary>
    public double TotalMs => Ms(_total);

    /// <summary>
    /// The rows, in the order the step runs them: each module (a block followed by its two parts, "NAME.conv" and
    /// "NAME.bn_relu_dropout"), then "loss" (nll_loss and the accuracy count), "optimizer" (zero_grad, the optimizer's
    /// and the scheduler's step), "data" (batch loading, when <see cref="Run"/> timed it). Mean ms per step.
    /// </summary>
    public IReadOnlyList<ProfileRow> Rows()
    {
        var rows = new List<ProfileRow>();
        for (int i = 0; i < _modules.Length; i++)
        {
            rows.Add(new ProfileRow(_names[i], _modules[i].GetType().Name.Split('`')[0], Ms(_forward[i]), Ms(_backward[i]), true, false));
            if (_modules[i] is ConvBnReluDropout<float>)
            {
                rows.Add(new ProfileRow(_names[i] + ".conv", "Conv2d", Ms(_convForward[i]), Ms(_convBackward[i]), true, true));
                rows.Add(new ProfileRow(_names[i] + ".bn_relu_dropout", "BatchNorm2d+ReLU+Dropout", Ms(_forward[i] - _convForward[i]),
                    Ms(_backward[i] - _convBackward[i]), true, true));
            }
        }
        rows.Add(new ProfileRow("loss", "nll_loss", Ms(_loss), 0, false, false));
        rows.Add(new ProfileRow("optimizer", _trainer.Optimizer.GetType().Name.Split('`')[0] + (_trainer.Scheduler is null ? "" : "+" + _trainer.Scheduler.GetType().Name.Split('`')[0]),
            Ms(_optimizer), 0, false, false));
        if (Batches > 0) rows.Add(new ProfileRow("data", "DataLoader", Ms(_data), 0, false, false));
        return rows;
    }

    private double Ms(long ticks) => Steps == 0 ? 0 : ticks * 1000.0 / Stopwatch.Frequency / Steps;
}
