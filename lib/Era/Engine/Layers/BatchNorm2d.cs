using System.Numerics;
using System.Runtime.CompilerServices;
using Era.Engine.Kernels;

namespace Era.Engine.Layers;

/// <summary>
/// torch.nn.BatchNorm2d(C, eps = 1e-5, momentum = 0.1, affine = true) on [N, C, H, W]; statistics per channel over
/// the M = N·H·W values of that channel.
/// Training:  μ = Σx/M,  σ² = Σ(x − μ)²/M (biased),  x̂ = (x − μ)/√(σ² + eps),  y = γ·x̂ + β;
///            running_mean ← (1 − momentum)·running_mean + momentum·μ,
///            running_var  ← (1 − momentum)·running_var  + momentum·σ²·M/(M − 1) (unbiased), num_batches_tracked += 1.
/// Eval:      y = γ·(x − running_mean)/√(running_var + eps) + β.
/// Backward (training; μ and σ depend on every x of the channel):
///            dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/(M·√(σ² + eps)) · (M·dy − Σdy − x̂·Σ(dy·x̂)).
/// Backward (eval): dx = dy·γ/√(running_var + eps).
/// Two paths compute this, chosen by <see cref="torch.backends.fast"/>: the readable one (<see cref="ForwardReference"/>,
/// <see cref="BackwardReference"/>: the formulas as written, one channel at a time in double) and the fast one (one
/// pass over the data per channel: sums, then y = x·scale + shift; dx = a·dy + b·x + k; channels split across threads,
/// each channel's sums on one thread: deterministic). Tests check both agree at 1, 2 and 3 threads.
/// </summary>
public sealed class BatchNorm2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // What backward needs from the last forward (and the reused output buffers):
    private Tensor<T>? _input, _output, _gradInput;
    private readonly double[] _mean, _invStd;   // per channel: batch statistics in training, running ones in eval
    private bool _trainingForward;

    public BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true)
    {
        if (numFeatures < 1) throw new ArgumentException($"BatchNorm2d: number of features must be positive, got {numFeatures}");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        if (affine)
        {
            weight = RegisterParameter("weight", new Tensor<T>(numFeatures));
            weight.Value.Fill(T.One);
            bias = RegisterParameter("bias", new Tensor<T>(numFeatures));
        }
        running_mean = RegisterBuffer("running_mean", new Tensor<T>(numFeatures));
        running_var = RegisterBuffer("running_var", new Tensor<T>(numFeatures));
        running_var.Fill(T.One);
        num_batches_tracked = RegisterBuffer("num_batches_tracked", new Tensor<T>(Array.Empty<int>()));
        _mean = new double[numFeatures];
        _invStd = new double[numFeatures];
    }

    public int NumFeatures { get; }
    public double Eps { get; }
    public double Momentum { get; }
#pragma warning disable IDE1006 // PyTorch names
    public Parameter<T>? weight { get; }
    public Parameter<T>? bias { get; }
    public Tensor<T> running_mean { get; }
    public Tensor<T> running_var { get; }
    public Tensor<T> num_batches_tracked { get; }
#pragma warning restore IDE1006

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        BeginForward(input);
        var y = Buffers.EnsureLike(ref _output, input);
        if (torch.backends.fast.enabled) Workers.Run(new BatchNormForward(this, input, y));
        else ForwardReference(input, y);
        EndForward();
        return y;
    }

    /// <summary>Checks the input and keeps it for backward (with the mode); then <see cref="Statistics"/> per channel, then <see cref="EndForward"/>.</summary>
    internal void BeginForward(Tensor<T> input)
    {
        Shapes.CheckInput("BatchNorm2d", input, -1, NumFeatures, -1, -1);
        if (Training && input.Shape[0] * input.Shape[2] * input.Shape[3] < 2)
            throw new ArgumentException($"BatchNorm2d: training needs more than 1 value per channel, got input {Tensor<T>.ShapeString(input.Shape)}");
        _input = input;
        _trainingForward = Training;
    }

    /// <summary>num_batches_tracked += 1 after a training forward.</summary>
    internal void EndForward()
    {
        if (_trainingForward) num_batches_tracked.Data[0] += T.One;
    }

    /// <summary>The fast forward over the channels of this chunk: the statistics, then y = x·scale + shift.</summary>
    private readonly struct BatchNormForward(BatchNorm2d<T> norm, Tensor<T> x, Tensor<T> y) : IChunkJob
    {
        public void Execute(int chunk, int chunks)
        {
            var (c0, c1) = Workers.Range(norm.NumFeatures, chunk, chunks);
            int n = x.Shape[0], hw = x.Shape[2] * x.Shape[3];
            for (int c = c0; c < c1; c++)
            {
                var (scale, shift) = norm.Statistics(c, x);
                for (int i = 0; i < n; i++) Elementwise.Affine<T>(Plane(x, i, c, hw), scale, shift, Plane(y, i, c, hw));
            }
        }
    }

    /// <summary>
    /// Channel c's statistics for this forward in one pass (the batch's in training, updating the running ones; the
    /// running ones in eval), kept for backward; returns y = x·scale + shift's coefficients, γ/σ and β − μ·γ/σ.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal (T Scale, T Shift) Statistics(int c, Tensor<T> x)
    {
        int n = x.Shape[0], hw = x.Shape[2] * x.Shape[3];
        long m = (long)n * hw;
        double mean, invStd;
        if (_trainingForward)
        {
            // One pass: Σ(x − K) and Σ(x − K)² with a shift K (the channel's first value) so that the
            // variance Σ(x − K)²/M − (Σ(x − K)/M)² does not cancel catastrophically when |mean| ≫ std.
            T shiftK = x.Data[c * hw];
            double s1 = 0, s2 = 0;
            for (int i = 0; i < n; i++)
            {
                var (a1, a2) = Elementwise.SumAndSumOfSquares<T>(Plane(x, i, c, hw), shiftK);
                s1 += double.CreateChecked(a1);
                s2 += double.CreateChecked(a2);
            }
            double k0 = double.CreateChecked(shiftK), d = s1 / m;
            mean = k0 + d;
            double ssd = Math.Max(s2 - d * s1, 0);
            double variance = ssd / m;                                    // biased: used to normalize
            invStd = 1 / Math.Sqrt(variance + Eps);
            double mom = Momentum;
            running_mean.Data[c] = T.CreateChecked((1 - mom) * double.CreateChecked(running_mean.Data[c]) + mom * mean);
            running_var.Data[c] = T.CreateChecked((1 - mom) * double.CreateChecked(running_var.Data[c]) + mom * variance * m / (m - 1)); // unbiased
        }
        else
        {
            mean = double.CreateChecked(running_mean.Data[c]);
            invStd = 1 / Math.Sqrt(double.CreateChecked(running_var.Data[c]) + Eps);
        }
        _mean[c] = mean;
        _invStd[c] = invStd;
        double gamma = weight is null ? 1 : double.CreateChecked(weight.Value.Data[c]);
        double beta = bias is null ? 0 : double.CreateChecked(bias.Value.Data[c]);
        // y = γ·(x − μ)·invStd + β = x·scale + shift
        return (T.CreateChecked(gamma * invStd), T.CreateChecked(beta - mean * gamma * invStd));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var x = _input ?? throw new InvalidOperationException("BatchNorm2d.Backward: call Forward first");
        Shapes.CheckSame("BatchNorm2d.Backward", gradOutput, x);
        var dx = Buffers.EnsureLike(ref _gradInput, x);
        if (torch.backends.fast.enabled) Workers.Run(new BatchNormBackward(this, x, gradOutput, dx));
        else BackwardReference(x, gradOutput, dx);
        return dx;
    }

    /// <summary>The fast backward over the channels of this chunk: Σdy and Σdy·x, then dγ, dβ and dx = a·dy + b·x + k.</summary>
    private readonly struct BatchNormBackward(BatchNorm2d<T> norm, Tensor<T> x, Tensor<T> dy, Tensor<T> dx) : IChunkJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int chunks)
        {
            var (c0, c1) = Workers.Range(norm.NumFeatures, chunk, chunks);
            int n = x.Shape[0], hw = x.Shape[2] * x.Shape[3];
            for (int c = c0; c < c1; c++)
            {
                double sumDy = 0, sumDyX = 0;
                for (int i = 0; i < n; i++)
                {
                    sumDy += double.CreateChecked(Elementwise.Sum<T>(Plane(dy, i, c, hw)));
                    sumDyX += double.CreateChecked(Elementwise.Dot<T>(Plane(dy, i, c, hw), Plane(x, i, c, hw)));
                }
                var (a, b, k) = norm.Coefficients(c, (double)n * hw, sumDy, sumDyX);
                for (int i = 0; i < n; i++)
                    Elementwise.LinearCombination<T>(a, Plane(dy, i, c, hw), b, Plane(x, i, c, hw), k, Plane(dx, i, c, hw));
            }
        }
    }

    /// <summary>
    /// Channel c's backward from the sums Σdy and Σdy·x over its <paramref name="m"/> values (with the last forward's
    /// statistics): adds dγ = Σ dy·x̂ and dβ = Σ dy to the gradients and returns dx = a·dy + b·x + k's coefficients.
    /// </summary>
    internal (T A, T B, T K) Coefficients(int c, double m, double sumDy, double sumDyX)
    {
        double mean = _mean[c], invStd = _invStd[c];
        double gamma = weight is null ? 1 : double.CreateChecked(weight.Value.Data[c]);
        double sumDyXhat = invStd * (sumDyX - mean * sumDy);                // Σ dy·x̂
        if (weight is not null) weight.Grad.Data[c] += T.CreateChecked(sumDyXhat); // dγ = Σ dy·x̂
        if (bias is not null) bias.Grad.Data[c] += T.CreateChecked(sumDy);          // dβ = Σ dy
        if (!_trainingForward) return (T.CreateChecked(gamma * invStd), T.Zero, T.Zero);   // dx = dy·γ/√(running_var + eps)
        // dx = γ·invStd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)) with x̂ = (x − μ)·invStd, written as a·dy + b·x + k
        double g = gamma * invStd / m;
        return (T.CreateChecked(g * m), T.CreateChecked(-g * sumDyXhat * invStd), T.CreateChecked(-g * sumDy + g * sumDyXhat * invStd * mean));
    }

    /// <summary>
    /// The readable forward: the math, channel by channel (double, one thread). In training μ = Σx/M,
    /// σ² = Σ(x − μ)²/M, x̂ = (x − μ)/√(σ² + eps), y = γ·x̂ + β, and the running statistics are updated; in eval x̂
    /// uses running_mean and running_var.
    /// </summary>
    private void ForwardReference(Tensor<T> input, Tensor<T> y)
    {
        for (int c = 0; c < NumFeatures; c++)
        {
            var (values, count) = Channel(input, c);
            double mean, variance;
            if (_trainingForward)
            {
                mean = values.Sum() / count;                                       // μ
                variance = values.Sum(x => (x - mean) * (x - mean)) / count;       // σ² (biased)
                running_mean.Data[c] = T.CreateChecked((1 - Momentum) * double.CreateChecked(running_mean.Data[c]) + Momentum * mean);
                running_var.Data[c] = T.CreateChecked((1 - Momentum) * double.CreateChecked(running_var.Data[c]) + Momentum * variance * count / (count - 1));
            }
            else
            {
                mean = double.CreateChecked(running_mean.Data[c]);
                variance = double.CreateChecked(running_var.Data[c]);
            }
            _mean[c] = mean;
            _invStd[c] = 1 / Math.Sqrt(variance + Eps);
            double gamma = weight is null ? 1 : double.CreateChecked(weight.Value.Data[c]);
            double beta = bias is null ? 0 : double.CreateChecked(bias.Value.Data[c]);
            var xhat = values.Select(x => (x - mean) / Math.Sqrt(variance + Eps)).ToArray();   // x̂
            SetChannel(y, c, xhat.Select(v => gamma * v + beta).ToArray());                      // y = γ·x̂ + β
        }
    }

    /// <summary>
    /// The readable backward: the math for the last forward's mode (double, one thread). Adds dγ = Σ dy·x̂ and
    /// dβ = Σ dy to the parameter gradients; in training μ and σ² depend on every x of the channel, so dx has three terms:
    /// <code>
    ///   dx = γ/√(σ² + eps) · (dy − mean(dy) − x̂ · mean(dy·x̂))
    ///         direct path   through μ     through σ²
    /// </code>
    /// In eval the statistics are constants: dx = γ/√(running_var + eps) · dy.
    /// </summary>
    private void BackwardReference(Tensor<T> input, Tensor<T> gradOutput, Tensor<T> dx)
    {
        bool training = _trainingForward;
        for (int c = 0; c < NumFeatures; c++)
        {
            var (x, count) = Channel(input, c);
            var (dy, _) = Channel(gradOutput, c);
            double mean = training ? x.Sum() / count : double.CreateChecked(running_mean.Data[c]);
            double variance = training ? x.Sum(v => (v - mean) * (v - mean)) / count : double.CreateChecked(running_var.Data[c]);
            double invStd = 1 / Math.Sqrt(variance + Eps);
            var xhat = x.Select(v => (v - mean) * invStd).ToArray();
            double gamma = weight is null ? 1 : double.CreateChecked(weight.Value.Data[c]);
            double sumDy = dy.Sum(), sumDyXhat = dy.Zip(xhat, (g, h) => g * h).Sum();
            if (weight is not null) weight.Grad.Data[c] += T.CreateChecked(sumDyXhat);   // dγ = Σ dy·x̂
            if (bias is not null) bias.Grad.Data[c] += T.CreateChecked(sumDy);            // dβ = Σ dy
            var d = new double[count];
            for (int i = 0; i < count; i++)
                d[i] = training
                    ? gamma * invStd * (dy[i] - sumDy / count - xhat[i] * sumDyXhat / count)
                    : gamma * invStd * dy[i];
            SetChannel(dx, c, d);
        }
    }

    /// <summary>Channel c of [N, C, H, W] as one list of its M = N·H·W values (image by image).</summary>
    private static (double[] Values, int Count) Channel(Tensor<T> t, int c)
    {
        int n = t.Shape[0], hw = t.Shape[2] * t.Shape[3];
        var values = new double[n * hw];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) values[i * hw + j] = double.CreateChecked(t.Data[(i * t.Shape[1] + c) * hw + j]);
        return (values, values.Length);
    }

    private static void SetChannel(Tensor<T> t, int c, double[] values)
    {
        int n = t.Shape[0], hw = t.Shape[2] * t.Shape[3];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) t.Data[(i * t.Shape[1] + c) * hw + j] = T.CreateChecked(values[i * hw + j]);
    }

    private static Span<T> Plane(Tensor<T> t, int n, int c, int hw) => t.Data.AsSpan((n * t.Shape[1] + c) * hw, hw);
}
