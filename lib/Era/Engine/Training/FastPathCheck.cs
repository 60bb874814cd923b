namespace Era.Engine.Training;

/// <summary>One parameter's gradient after the same training step on the readable and on the fast path.</summary>
/// <param name="MaxAbs">The largest |gradient| on the readable path.</param>
/// <param name="MaxDifference">The largest |fast − readable| over the tensor's entries.</param>
/// <param name="Relative">‖fast − readable‖ / ‖readable‖ (Euclidean norms over the tensor).</param>
public readonly record struct GradientDifference(string Tensor, int Count, double MaxAbs, double MaxDifference, double Relative)
{
    public static GradientDifference Of(string tensor, float[] readable, float[] fast)
    {
        double maxAbs = 0, maxDiff = 0, norm = 0, diff = 0;
        for (int i = 0; i < readable.Length; i++)
        {
            double r = readable[i], d = Math.Abs((double)fast[i] - r);
            maxAbs = Math.Max(maxAbs, Math.Abs(r));
            maxDiff = Math.Max(maxDiff, d);
            norm += r * r;
            diff += d * d;
        }
        return new GradientDifference(tensor, readable.Length, maxAbs, maxDiff, norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm));
    }
}

/// <summary>The loss and every gradient of one training step on each path; <see cref="Worst"/> is the largest relative difference.</summary>
public sealed record FastPathCheck(double ReadableLoss, double FastLoss, IReadOnlyList<GradientDifference> Gradients)
{
    public double LossDifference => Math.Abs(FastLoss - ReadableLoss) / Math.Max(Math.Abs(ReadableLoss), 1e-30);

    public double Worst => Math.Max(LossDifference, Gradients.Max(g => g.Relative));

    /// <summary>
    /// One real training step (<see cref="Trainer.Step"/>: zero_grad, forward, nll_loss, backward, SGD) of a fresh
    /// model of <paramref name="recipe"/> on the same batch twice, from the same seed (so the same weights and dropout
    /// masks): first with <see cref="torch.backends.fast"/> disabled — every layer's formulas as written — then
    /// enabled; the loss and every parameter's gradient side by side. Restores the switch.
    /// </summary>
    public static FastPathCheck Run(Recipe recipe, Tensor<float> images, int[] labels, long seed = 1)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var (readableLoss, readable) = Step(recipe, images, labels, seed, fast: false);
        var (fastLoss, fast) = Step(recipe, images, labels, seed, fast: true);
        var rows = readable.Select((r, i) => GradientDifference.Of(r.Name, r.Grad, fast[i].Grad)).ToList();
        return new FastPathCheck(readableLoss, fastLoss, rows);
    }

    private static (double Loss, List<(string Name, float[] Grad)> Grads) Step(Recipe recipe, Tensor<float> images, int[] labels, long seed, bool fast)
    {
        using var _ = torch.backends.fast.flags(fast);
        torch.manual_seed(seed);
        var model = recipe.CreateModel();
        var step = new Trainer(model, recipe.CreateOptimizer(model)).Step(images, labels);
        return (step.Loss, model.NamedParameters().Select(p => (p.Name, p.Parameter.Grad.Data.ToArray())).ToList());
    }
}
