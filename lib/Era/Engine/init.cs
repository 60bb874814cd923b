using System.Numerics;

namespace Era.Engine;

/// <summary>
/// Weight initialization as torch.nn.init, drawing from <see cref="torch.default_generator"/> (or a given one)
/// in flat index order, so one seed fixes every weight.
/// </summary>
#pragma warning disable IDE1006, CA1707, CS8981
public static class init
#pragma warning restore IDE1006, CA1707, CS8981
{
    /// <summary>Fills with U(low, high).</summary>
    public static Tensor<T> uniform_<T>(Tensor<T> tensor, double low, double high, Generator? generator = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = generator ?? torch.default_generator;
        var d = tensor.Data;
        for (int i = 0; i < d.Length; i++) d[i] = T.CreateChecked(g.Uniform(low, high));
        return tensor;
    }

    /// <summary>
    /// kaiming_uniform_(a, mode='fan_in', nonlinearity='leaky_relu'): U(−bound, bound) with
    /// gain = √(2 / (1 + a²)) and bound = gain · √(3 / fan_in). PyTorch's Conv2d and Linear use a = √5,
    /// which gives bound = 1/√fan_in.
    /// </summary>
    public static Tensor<T> kaiming_uniform_<T>(Tensor<T> tensor, double a, int fanIn, Generator? generator = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double gain = Math.Sqrt(2.0 / (1 + a * a));
        double bound = gain * Math.Sqrt(3.0 / fanIn);
        return uniform_(tensor, -bound, bound, generator);
    }

    /// <summary>fan_in of a weight of shape [out, in, k, k] (or [out, in]): in · k · k.</summary>
    public static int FanIn(int[] weightShape)
    {
        int fan = 1;
        for (int i = 1; i < weightShape.Length; i++) fan *= weightShape[i];
        return fan;
    }
}
