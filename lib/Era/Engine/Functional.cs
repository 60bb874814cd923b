using System.Numerics;

namespace Era.Engine;

/// <summary>A loss value (mean over the batch) and its gradient with respect to the loss function's input.</summary>
public readonly record struct Loss<T>(double Value, Tensor<T> Grad) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// Functional losses, as torch.nn.functional (mean reduction). Each returns the loss AND ∂loss/∂input, which is
/// where backpropagation starts:
/// <code>
///   var output = model.Forward(images);          // log-probabilities [N, C]
///   var loss = F.nll_loss(output, labels);       // loss.Value = −(1/N) Σ_n output[n, label_n]
///   model.Backward(loss.Grad);                   // loss.Grad = ∂loss/∂output, same shape as output
/// </code>
/// Pass <c>grad</c> (a tensor of the input's shape) to reuse a buffer instead of allocating one per call.
/// </summary>
#pragma warning disable IDE1006, CA1707 // PyTorch names
public static class F
{
    /// <summary>
    /// Negative log-likelihood of log-probabilities [N, C]: L = −(1/N) Σ_n input[n, target_n].
    /// Local derivative: ∂L/∂input[n, c] = −1/N if c = target_n, else 0.
    /// </summary>
    public static Loss<T> nll_loss<T>(Tensor<T> input, ReadOnlySpan<int> target, Tensor<T>? grad = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c) = CheckLossInput("nll_loss", input, target);
        var g = PrepareGrad("nll_loss (grad buffer)", input, grad);
        g.Zero();
        double sum = 0;
        T minusInvN = -T.One / T.CreateChecked(n);
        for (int i = 0; i < n; i++)
        {
            sum -= double.CreateChecked(input.Data[i * c + target[i]]);
            g.Data[i * c + target[i]] = minusInvN;
        }
        return new Loss<T>(sum / n, g);
    }

    /// <summary>
    /// Cross-entropy of raw scores (logits) [N, C]: nll_loss(log_softmax(logits), target).
    /// Local derivative (softmax and log fold together): ∂L/∂logits[n, c] = (softmax(logits)[n, c] − [c = target_n]) / N.
    /// </summary>
    public static Loss<T> cross_entropy<T>(Tensor<T> input, ReadOnlySpan<int> target, Tensor<T>? grad = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c) = CheckLossInput("cross_entropy", input, target);
        var g = PrepareGrad("cross_entropy (grad buffer)", input, grad);
        Layers.LogSoftmax<T>.Forward(input, g);                  // g = log-probabilities for now
        double sum = 0;
        T invN = T.One / T.CreateChecked(n);
        for (int i = 0; i < n; i++)
        {
            sum -= double.CreateChecked(g.Data[i * c + target[i]]);
            for (int k = 0; k < c; k++) g.Data[i * c + k] = T.Exp(g.Data[i * c + k]) * invN;  // softmax / N
            g.Data[i * c + target[i]] -= invN;                                                 // − onehot / N
        }
        return new Loss<T>(sum / n, g);
    }

    /// <summary>log_softmax over dim 1 of [N, C], into a new tensor (the module <see cref="Layers.LogSoftmax{T}"/> has the backward).</summary>
    public static Tensor<T> log_softmax<T>(Tensor<T> input, int dim = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.CheckInput("log_softmax", input, -1, -1);
        if (dim != 1 && dim != -1) throw new ArgumentException($"log_softmax: only dim 1 of [N, C] is supported, got dim {dim}");
        var y = new Tensor<T>(input.Shape);
        Layers.LogSoftmax<T>.Forward(input, y);
        return y;
    }

    private static (int N, int C) CheckLossInput<T>(string op, Tensor<T> input, ReadOnlySpan<int> target)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.CheckInput(op, input, -1, -1);
        int n = input.Shape[0], c = input.Shape[1];
        if (n == 0) throw new ArgumentException($"{op}: empty batch {Tensor<T>.ShapeString(input.Shape)}");
        if (target.Length != n)
            throw new ArgumentException($"{op}: input {Tensor<T>.ShapeString(input.Shape)} has {n} rows but target has {target.Length} labels");
        for (int i = 0; i < n; i++)
            if ((uint)target[i] >= (uint)c)
                throw new ArgumentException($"{op}: target[{i}] = {target[i]} is outside the {c} classes of input {Tensor<T>.ShapeString(input.Shape)}");
        return (n, c);
    }

    private static Tensor<T> PrepareGrad<T>(string op, Tensor<T> input, Tensor<T>? grad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (grad is null) return new Tensor<T>(input.Shape);
        Shapes.CheckSame(op, grad, input);
        return grad;
    }
}
#pragma warning restore IDE1006, CA1707
