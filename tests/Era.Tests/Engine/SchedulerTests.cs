using Era.Engine;
using Era.Engine.Optim;

namespace Era.Tests.Engine;

/// <summary>
/// Scheduler curves against PyTorch: the expected values were produced by Reference/optim_reference.py with
/// python3-torch 1.13.0 (Debian). Index 0 is the value right after construction, index i after i scheduler steps.
/// </summary>
public class SchedulerTests
{
    // OneCycleLR SGD max_lr 0.1 total_steps 20 lr
    private static readonly double[] OneCycleSgd20Lr =
        [0.0040000000000000036, 0.013167184270002533, 0.037167184270002526, 0.06683281572999747, 0.09083281572999748, 0.1, 0.09874640062350874, 0.09504846320134738, 0.089091617757105, 0.0811745653949763, 0.07169430017913009, 0.06112620219362893, 0.0500002, 0.03887419780637107, 0.028306099820869922, 0.0188258346050237, 0.010908782242895003, 0.004951936798652629, 0.0012539993764912555, 4e-07, 0.0012539993764912555];
    // OneCycleLR SGD max_lr 0.1 total_steps 20 momentum
    private static readonly double[] OneCycleSgd20Momentum =
        [0.95, 0.9404508497187474, 0.9154508497187474, 0.8845491502812526, 0.8595491502812526, 0.85, 0.8512536043909088, 0.854951556604879, 0.8609084258765984, 0.8688255099070633, 0.878305813044122, 0.8888739533021842, 0.8999999999999999, 0.9111260466978157, 0.9216941869558779, 0.9311744900929366, 0.9390915741234015, 0.945048443395121, 0.9487463956090911, 0.95, 0.9487463956090911];
    // OneCycleLR Adam max_lr 0.01 total_steps 15 lr
    private static readonly double[] OneCycleAdam15Lr =
        [0.0003999999999999993, 0.0022072489510780785, 0.006268100482990309, 0.009524650565931611, 0.009944154354509118, 0.009504846320134737, 0.008665264698111694, 0.00750001, 0.0061126202193628925, 0.00462637102666975, 0.0031733221849885125, 0.00188258346050237, 0.000868842653195513, 0.0002221750825254118, 4e-08, 0.00022217508252541236];
    // OneCycleLR Adam max_lr 0.01 total_steps 15 momentum
    private static readonly double[] OneCycleAdam15Momentum =
        [0.95, 0.9311744900929366, 0.8888739533021842, 0.854951556604879, 0.8505584586887436, 0.854951556604879, 0.8633474064085087, 0.875, 0.8888739533021842, 0.9037365046793212, 0.9182670512183198, 0.9311744900929366, 0.9413119387157997, 0.947778640289307, 0.95, 0.947778640289307];
    // OneCycleLR SGD max_lr 1 total_steps 12 three_phase linear pct_start 0.25 lr
    private static readonly double[] OneCycleThreePhaseLinear12Lr =
        [0.04, 0.52, 1.0, 0.52, 0.040000000000000036, 0.034286285714285714, 0.02857257142857143, 0.022858857142857143, 0.01714514285714286, 0.011431428571428568, 0.005717714285714284, 3.9999999999970615e-06, -0.005709714285714283];
    // OneCycleLR SGD max_lr 1 total_steps 12 three_phase linear pct_start 0.25 momentum
    private static readonly double[] OneCycleThreePhaseLinear12Momentum =
        [0.95, 0.8999999999999999, 0.85, 0.8999999999999999, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95];
    // StepLR lr 0.05 step_size 3 gamma 0.5 lr
    private static readonly double[] StepLR3Lr =
        [0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.00625, 0.00625];
    // StepLR lr 0.05 step_size 3 gamma 0.5 momentum
    private static readonly double[] StepLR3Momentum =
        [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9];
    // ReduceLROnPlateau lr 0.1 factor 0.5 patience 2 cooldown 1 min_lr 0.02, after each of METRICS
    private static readonly double[] PlateauLr =
        [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.02, 0.02];
    private static readonly double[] PlateauMetrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.8999, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77, 0.78];

    private static Parameter<float>[] OneParameter() => [new Parameter<float>(new Tensor<float>(1))];

    private static void Follow(Optimizer<float> opt, LRScheduler<float> sched, double[] lrs, double[] momenta)
    {
        for (int i = 0; i < lrs.Length; i++)
        {
            Assert.True(Math.Abs(opt.LearningRate - lrs[i]) <= 1e-12 * Math.Max(1, Math.Abs(lrs[i])), $"step {i}: lr {opt.LearningRate:R}, PyTorch {lrs[i]:R}");
            Assert.True(Math.Abs(opt.CycledMomentum - momenta[i]) <= 1e-12, $"step {i}: momentum {opt.CycledMomentum:R}, PyTorch {momenta[i]:R}");
            if (i < lrs.Length - 1)
            {
                opt.step();
                sched.step();
            }
        }
    }

    [Fact]
    public void OneCycleWithSgdCyclesLearningRateAndMomentum()
    {
        var opt = new SGD<float>(OneParameter(), lr: 0.05, momentum: 0.9);
        Follow(opt, new OneCycleLR<float>(opt, max_lr: 0.1, total_steps: 20), OneCycleSgd20Lr, OneCycleSgd20Momentum);
    }

    [Fact]
    public void OneCycleWithAdamCyclesBeta1()
    {
        var opt = new Adam<float>(OneParameter(), lr: 0.001);
        Follow(opt, new OneCycleLR<float>(opt, max_lr: 0.01, total_steps: 15), OneCycleAdam15Lr, OneCycleAdam15Momentum);
        Assert.Equal(0.999, ((Adam<float>)opt).Beta2); // beta2 is not cycled
    }

    [Fact]
    public void OneCycleThreePhaseLinear()
    {
        var opt = new SGD<float>(OneParameter(), lr: 0.05, momentum: 0.9);
        var sched = new OneCycleLR<float>(opt, max_lr: 1.0, total_steps: 12, three_phase: true, anneal_strategy: AnnealStrategy.Linear, pct_start: 0.25);
        Follow(opt, sched, OneCycleThreePhaseLinear12Lr, OneCycleThreePhaseLinear12Momentum);
    }

    [Fact]
    public void OneCycleRefusesToStepPastTotalSteps()
    {
        var opt = new SGD<float>(OneParameter(), lr: 0.05, momentum: 0.9);
        var sched = new OneCycleLR<float>(opt, max_lr: 0.1, total_steps: 3);
        for (int i = 0; i < 3; i++) sched.step();
        var e = Assert.Throws<InvalidOperationException>(sched.step);
        Assert.Contains("total steps is 3", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleLR<float>(opt, max_lr: 0.1, total_steps: 0));
    }

    [Fact]
    public void StepLRHalvesEveryThreeSteps()
    {
        var opt = new SGD<float>(OneParameter(), lr: 0.05, momentum: 0.9);
        Follow(opt, new StepLR<float>(opt, step_size: 3, gamma: 0.5), StepLR3Lr, StepLR3Momentum);
    }

    [Fact]
    public void ReduceLROnPlateauWithPatienceAndCooldown()
    {
        var opt = new SGD<float>(OneParameter(), lr: 0.1);
        var sched = new ReduceLROnPlateau<float>(opt, factor: 0.5, patience: 2, cooldown: 1, min_lr: 0.02);
        for (int i = 0; i < PlateauMetrics.Length; i++)
        {
            sched.step(PlateauMetrics[i]);
            Assert.True(Math.Abs(opt.LearningRate - PlateauLr[i]) <= 1e-15, $"after metric {i}: lr {opt.LearningRate:R}, PyTorch {PlateauLr[i]:R}");
        }
    }

    [Fact]
    public void ReduceLROnPlateauMaxMode()
    {
        // Hand-computed: accuracy 0.5 then never better by more than 0.1 % ⇒ after patience 1 + 1 bad epochs, lr × 0.1.
        var opt = new SGD<float>(OneParameter(), lr: 1.0);
        var sched = new ReduceLROnPlateau<float>(opt, mode: PlateauMode.Max, patience: 1, threshold: 1e-3);
        sched.step(0.5);
        sched.step(0.5004);
        Assert.Equal(1.0, opt.LearningRate);
        sched.step(0.5);
        Assert.Equal(0.1, opt.LearningRate, 15);
    }
}
