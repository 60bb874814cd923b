using System.Numerics;

namespace Era.Engine.Optim;

/// <summary>
/// Base of the per-step learning-rate schedulers, as torch.optim.lr_scheduler._LRScheduler (PyTorch 1.13):
/// constructing one records the optimizer's initial learning rate and applies the value for step 0;
/// each step() then advances the counter and sets the optimizer's learning rate (and momentum) for the next step.
/// Call it after optimizer.step().
/// </summary>
public abstract class LRScheduler<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    protected LRScheduler(Optimizer<T> optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        optimizer.InitialLearningRate = optimizer.LearningRate;
    }

    public Optimizer<T> Optimizer { get; }

    /// <summary>PyTorch's last_epoch: how many times step() has run (0 right after construction).</summary>
    public int LastEpoch { get; private set; } = -1;

    /// <summary>The learning rate set by the last step (PyTorch's get_last_lr()).</summary>
    public double LastLearningRate => Optimizer.LearningRate;

    public void step()
    {
        LastEpoch++;
        Apply(LastEpoch);
    }

    /// <summary>Sets the optimizer's learning rate (and momentum) for step number <paramref name="epoch"/>.</summary>
    protected abstract void Apply(int epoch);
}

/// <summary>Multiplies the learning rate by gamma every step_size steps, as torch.optim.lr_scheduler.StepLR.</summary>
public sealed class StepLR<T> : LRScheduler<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public StepLR(Optimizer<T> optimizer, int step_size, double gamma = 0.1) : base(optimizer)
    {
        if (step_size <= 0) throw new ArgumentOutOfRangeException(nameof(step_size), step_size, "step_size must be positive");
        StepSize = step_size;
        Gamma = gamma;
        step();
    }

    public int StepSize { get; }
    public double Gamma { get; }

    // PyTorch 1.13's chainable form: multiply the current rate, so other code may change it in between.
    protected override void Apply(int epoch)
    {
        if (epoch != 0 && epoch % StepSize == 0) Optimizer.LearningRate *= Gamma;
    }
}

public enum AnnealStrategy { Cos, Linear }

/// <summary>
/// The 1cycle policy (Smith and Topin), as torch.optim.lr_scheduler.OneCycleLR in PyTorch 1.13. The learning rate
/// rises from initial_lr = max_lr/div_factor to max_lr over the first pct_start of the steps, then falls to
/// min_lr = initial_lr/final_div_factor; the momentum (SGD's momentum or Adam's beta1) moves the opposite way,
/// between max_momentum and base_momentum. Phase i runs from the end of phase i−1 to its end step and anneals
/// with pct = (step − start)/(end − start):
/// <code>
///   two phases:   [0, pct_start·total − 1]   lr initial → max,  momentum max → base
///                 [.., total − 1]             lr max → min,      momentum base → max
///   three phases: [0, pct_start·total − 1]   initial → max;  [.., 2·pct_start·total − 2]  max → initial;
///                 [.., total − 1]             initial → min  (momentum max → base → max → max)
///   cos anneal:   end + (start − end)/2 · (1 + cos(π·pct))
/// </code>
/// </summary>
public sealed class OneCycleLR<T> : LRScheduler<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly record struct Phase(double EndStep, double StartLr, double EndLr, double StartMomentum, double EndMomentum);

    private readonly Phase[] _phases;

    public OneCycleLR(Optimizer<T> optimizer, double max_lr, int total_steps, double pct_start = 0.3,
        AnnealStrategy anneal_strategy = AnnealStrategy.Cos, bool cycle_momentum = true, double base_momentum = 0.85,
        double max_momentum = 0.95, double div_factor = 25, double final_div_factor = 1e4, bool three_phase = false)
        : base(optimizer)
    {
        if (total_steps <= 0) throw new ArgumentOutOfRangeException(nameof(total_steps), total_steps, "total_steps must be a positive integer");
        if (!(pct_start >= 0 && pct_start <= 1)) throw new ArgumentOutOfRangeException(nameof(pct_start), pct_start, "pct_start must be in [0, 1]");
        TotalSteps = total_steps;
        AnnealStrategy = anneal_strategy;
        CycleMomentum = cycle_momentum;
        MaxLearningRate = max_lr;
        InitialLearningRate = max_lr / div_factor;
        MinLearningRate = InitialLearningRate / final_div_factor;
        optimizer.InitialLearningRate = InitialLearningRate;

        double initial = InitialLearningRate, min = MinLearningRate;
        _phases = three_phase
            ? [
                new(pct_start * total_steps - 1, initial, max_lr, max_momentum, base_momentum),
                new(2 * pct_start * total_steps - 2, max_lr, initial, base_momentum, max_momentum),
                new(total_steps - 1, initial, min, max_momentum, max_momentum),
            ]
            : [
                new(pct_start * total_steps - 1, initial, max_lr, max_momentum, base_momentum),
                new(total_steps - 1, max_lr, min, base_momentum, max_momentum),
            ];
        step();
    }

    public int TotalSteps { get; }
    public AnnealStrategy AnnealStrategy { get; }
    public bool CycleMomentum { get; }
    public double InitialLearningRate { get; }
    public double MaxLearningRate { get; }
    public double MinLearningRate { get; }

    /// <summary>Learning rate and momentum at step <paramref name="stepNum"/> (0-based), without changing anything.</summary>
    public (double Lr, double Momentum) At(int stepNum)
    {
        if (stepNum > TotalSteps)
            throw new InvalidOperationException($"OneCycleLR: tried to step {stepNum} times; the specified number of total steps is {TotalSteps}");
        double start = 0;
        for (int i = 0; i < _phases.Length; i++)
        {
            var phase = _phases[i];
            if (stepNum <= phase.EndStep || i == _phases.Length - 1)
            {
                double pct = (stepNum - start) / (phase.EndStep - start);
                return (Anneal(phase.StartLr, phase.EndLr, pct), Anneal(phase.StartMomentum, phase.EndMomentum, pct));
            }
            start = phase.EndStep;
        }
        throw new InvalidOperationException("unreachable");
    }

    protected override void Apply(int epoch)
    {
        var (lr, momentum) = At(epoch);
        Optimizer.LearningRate = lr;
        if (CycleMomentum) Optimizer.CycledMomentum = momentum;
    }

    private double Anneal(double start, double end, double pct) => AnnealStrategy == AnnealStrategy.Cos
        ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1)
        : (end - start) * pct + start;
}

public enum PlateauMode { Min, Max }

public enum ThresholdMode { Rel, Abs }

/// <summary>
/// Lowers the learning rate by <c>factor</c> when a metric (e.g. the validation loss) has not improved for more than
/// <c>patience</c> calls, as torch.optim.lr_scheduler.ReduceLROnPlateau (PyTorch 1.13). "Improved" in mode min with
/// relative threshold means: metric &lt; best·(1 − threshold). After a reduction it waits <c>cooldown</c> calls.
/// Call step(metric) once per epoch.
/// </summary>
public sealed class ReduceLROnPlateau<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const double Eps = 1e-8; // changes smaller than this are ignored, as PyTorch

    public ReduceLROnPlateau(Optimizer<T> optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1,
        int patience = 10, double threshold = 1e-4, ThresholdMode threshold_mode = ThresholdMode.Rel, int cooldown = 0,
        double min_lr = 0)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!(factor < 1.0)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "factor should be < 1.0");
        Optimizer = optimizer;
        Mode = mode;
        Factor = factor;
        Patience = patience;
        Threshold = threshold;
        ThresholdMode = threshold_mode;
        Cooldown = cooldown;
        MinLearningRate = min_lr;
        Best = mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;
    }

    public Optimizer<T> Optimizer { get; }
    public PlateauMode Mode { get; }
    public double Factor { get; }
    public int Patience { get; }
    public double Threshold { get; }
    public ThresholdMode ThresholdMode { get; }
    public int Cooldown { get; }
    public double MinLearningRate { get; }
    public double Best { get; private set; }
    public int NumBadEpochs { get; private set; }
    public int LastEpoch { get; private set; }
    private int _cooldownCounter;

    public void step(double metric)
    {
        LastEpoch++;
        if (IsBetter(metric, Best))
        {
            Best = metric;
            NumBadEpochs = 0;
        }
        else
        {
            NumBadEpochs++;
        }

        if (_cooldownCounter > 0)
        {
            _cooldownCounter--;
            NumBadEpochs = 0; // bad epochs during the cooldown do not count
        }

        if (NumBadEpochs > Patience)
        {
            double old = Optimizer.LearningRate;
            double reduced = Math.Max(old * Factor, MinLearningRate);
            if (old - reduced > Eps) Optimizer.LearningRate = reduced;
            _cooldownCounter = Cooldown;
            NumBadEpochs = 0;
        }
    }

    private bool IsBetter(double a, double best) => (Mode, ThresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Rel) => a < best * (1 - Threshold),
        (PlateauMode.Min, ThresholdMode.Abs) => a < best - Threshold,
        (PlateauMode.Max, ThresholdMode.Rel) => a > best * (Threshold + 1),
        _ => a > best + Threshold,
    };
}
