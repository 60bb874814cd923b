using System.Globalization;
using System.Numerics;

namespace Era.Engine.Layers;

/// <summary>
/// Runs its children in order, as torch.nn.Sequential; children are named "0", "1", … so state_dict names match
/// PyTorch's (e.g. "f.0.0.weight"). Backward runs the chain rule through the children in reverse order.
/// </summary>
public sealed class Sequential<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Module<T>> _items = [];

    public Sequential(params Module<T>[] modules)
    {
        foreach (var m in modules) Add(m);
    }

    public Sequential<T> Add(Module<T> module)
    {
        ArgumentNullException.ThrowIfNull(module);
        RegisterModule(_items.Count.ToString(CultureInfo.InvariantCulture), module);
        _items.Add(module);
        return this;
    }

    public int Count => _items.Count;

    public Module<T> this[int index] => _items[index];

    public override Tensor<T> Forward(Tensor<T> input)
    {
        var x = input;
        foreach (var module in _items) x = module.Call(x);
        return x;
    }

    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var g = gradOutput;
        for (int i = _items.Count - 1; i >= 0; i--) g = _items[i].CallBackward(g);
        return g;
    }
}
