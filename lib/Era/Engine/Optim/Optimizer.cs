using System.Numerics;

namespace Era.Engine.Optim;

/// <summary>
/// Base of the optimizers, as torch.optim.Optimizer with a single parameter group: it owns the list of parameters
/// and the learning rate that schedulers change between steps. Each step reads every parameter's Grad (filled by
/// backward) and updates its Value in place; per-parameter state (momentum buffers, Adam moments) is allocated once.
/// </summary>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    protected Optimizer(IEnumerable<Parameter<T>> parameters, double lr)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        if (Parameters.Count == 0) throw new ArgumentException("optimizer got an empty parameter list", nameof(parameters));
        CheckNonNegative(lr, "learning rate");
        LearningRate = lr;
        InitialLearningRate = lr;
    }

    public IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>The current learning rate (PyTorch's param_groups[0]["lr"]); schedulers set it.</summary>
    public double LearningRate { get; set; }

    /// <summary>The learning rate at the time the first scheduler attached (PyTorch's "initial_lr").</summary>
    public double InitialLearningRate { get; set; }

    /// <summary>How many times step() ran.</summary>
    public long StepCount { get; private set; }

    /// <summary>
    /// The momentum a cyclic scheduler (OneCycleLR) varies: SGD's momentum, Adam's beta1.
    /// </summary>
    public abstract double CycledMomentum { get; set; }

    /// <summary>Applies one update to every parameter that requires a gradient.</summary>
    public void step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
            if (Parameters[i].RequiresGrad) Update(i, Parameters[i]);
    }

    /// <summary>Sets every parameter's gradient to zero (PyTorch 1.13 default set_to_none=False).</summary>
    public void zero_grad()
    {
        for (int i = 0; i < Parameters.Count; i++) Parameters[i].Grad.Zero(); // a for loop: no enumerator to allocate
    }

    /// <summary>Updates parameter number <paramref name="index"/> from its gradient.</summary>
    protected abstract void Update(int index, Parameter<T> p);

    protected static T Scalar(double x) => T.CreateTruncating(x);

    protected static void CheckNonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"invalid {name}: {value} (must be a finite number >= 0)");
    }
}
