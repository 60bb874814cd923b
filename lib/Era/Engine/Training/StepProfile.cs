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
/// Where a training step's time goes, module by module. <see cref="Step"/> is <see cref="Trainer.Step"/> itself, timed
/// through forward and backward hooks (<see cref="Module{T}.register_forward_pre_hook"/> and its kin) on the children of
/// an <see cref="MnistNet{T}"/> (each module of f, then flatten, fc, log_softmax) and on each
/// <see cref="ConvBnReluDropout{T}"/> block's convolution, so a block's row splits into the convolution and
/// BN → ReLU → Dropout. Other models are timed as one "model" row. <see cref="Run"/> also times the batch loading
/// ("data"). The hooks read the clock only while a profiled step runs; dispose the profile to remove them.
/// <code>
///   using var profile = new StepProfile(trainer);
///   profile.Run(loader, steps: 50);
///   foreach (var row in profile.Rows()) Console.WriteLine($"{row.Name} {row.ForwardMs:F2} {row.BackwardMs:F2}");
/// </code>
/// Reading the clock costs well under a microsecond, next to steps of tens of milliseconds.
/// </summary>
public sealed class StepProfile : IDisposable
{
    private readonly Trainer _trainer;
    private readonly Module<float>[] _modules;      // what runs forward, in order ("model" alone if not an MnistNet)
    private readonly string[] _names;
    private readonly long[] _forward, _backward;     // Stopwatch ticks, summed over the profiled steps
    private readonly long[] _convForward, _convBackward;   // the convolution part of a ConvBnReluDropout, else 0
    // This step's clock readings: [module, kind] with kind 0..3 = before/after forward, before/after backward, and 4..7 the same for a block's convolution.
    private readonly long[,] _at;
    private readonly List<IDisposable> _handles = [];
    private bool _timing;
    private long _loss, _optimizer, _data, _total;

    public StepProfile(Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        _trainer = trainer;
        if (trainer.Model is MnistNet<float> net)
        {
            _modules = [.. net.f.NamedChildren().Select(c => c.Module), net.flatten, net.fc, net.log_softmax];
            _names = [.. net.f.NamedChildren().Select(c => "f." + c.Name), "flatten", "fc", "log_softmax"];
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
        _at = new long[_modules.Length, 8];
        if (_modules.Length == 1) return;   // the whole model: the step's own clock readings suffice
        for (int i = 0; i < _modules.Length; i++)
        {
            Watch(_modules[i], i, 0);
            if (_modules[i] is ConvBnReluDropout<float> block) Watch(block.Conv, i, 4);
        }
    }

    /// <summary>Hooks that read the clock into _at[i, first..first + 3] (allocated once, here: a step allocates nothing).</summary>
    private void Watch(Module<float> module, int i, int first)
    {
        _handles.Add(module.register_forward_pre_hook(_ => Tick(i, first)));
        _handles.Add(module.register_forward_hook(_ => Tick(i, first + 1)));
        _handles.Add(module.register_full_backward_pre_hook(_ => Tick(i, first + 2)));
        _handles.Add(module.register_full_backward_hook(_ => Tick(i, first + 3)));
    }

    private void Tick(int i, int kind)
    {
        if (_timing) _at[i, kind] = Stopwatch.GetTimestamp();
    }

    /// <summary>Removes the hooks.</summary>
    public void Dispose()
    {
        foreach (var h in _handles) h.Dispose();
        _handles.Clear();
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

    /// <summary>
    /// One <see cref="Trainer.Step"/>, timed module by module. Every tick between the step's start and end falls in
    /// one row: a module's forward runs until the next module's starts (the last one's until its own end), the loss
    /// from the last forward to the first backward, a module's backward until the next backward starts, the optimizer
    /// before the first forward (zero_grad) and after the last backward (its step and the scheduler's).
    /// </summary>
    public StepResult Step(Tensor<float> images, int[] labels)
    {
        long start = Stopwatch.GetTimestamp();
        _timing = true;
        StepResult result;
        try
        {
            result = _trainer.Step(images, labels);
        }
        finally
        {
            _timing = false;
        }
        long end = Stopwatch.GetTimestamp();
        int n = _modules.Length, last = n - 1;
        if (n == 1)
        {
            _forward[0] += end - start;   // one row for the whole step's model work
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                _forward[i] += (i < last ? _at[i + 1, 0] : _at[i, 1]) - _at[i, 0];
                _backward[i] += (i > 0 ? _at[i - 1, 2] : _at[i, 3]) - _at[i, 2];
                if (_modules[i] is ConvBnReluDropout<float>)
                {
                    _convForward[i] += _at[i, 5] - _at[i, 4];
                    _convBackward[i] += _at[i, 7] - _at[i, 6];
                }
            }
            _loss += _at[last, 2] - _at[last, 1];
            _optimizer += _at[0, 0] - start + (end - _at[0, 3]);
        }
        _total += end - start;
        Steps++;
        return result;
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
