using System.Globalization;
using System.Numerics;

namespace Era.Engine.Layers;

/// <summary>
/// Runs its children in order, as torch.nn.Sequential; children are named "0", "1", … so state_dict names match
/// PyTorch's (e.g. "f.0.0.weight"). Backward runs the chain rule through the children in reverse order.
/// Speed: for float, a run BatchNorm2d → ReLU → Dropout is computed by one fused kernel (same math, without writing
/// the two intermediate tensors; see Kernels/BnReluDropout.cs). Set <see cref="FuseBatchNormReluDropout"/> to false
/// to run the three layers one by one (tests compare both).
/// </summary>
public sealed class Sequential<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Module<T>> _items = [];
    private bool[] _fusedAt = [];   // _fusedAt[i]: items i..i+2 ran fused in the last Forward

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

    public bool FuseBatchNormReluDropout { get; set; } = true;

    public override Tensor<T> Forward(Tensor<T> input)
    {
        if (_fusedAt.Length != _items.Count) _fusedAt = new bool[_items.Count];
        var x = input;
        for (int i = 0; i < _items.Count; i++)
        {
            _fusedAt[i] = false;
            if (CanFuse(i))
            {
                x = ((BatchNorm2d<T>)_items[i]).ForwardFused(x, (Dropout<T>)_items[i + 2]);
                _fusedAt[i] = true;
                _fusedAt[i + 1] = _fusedAt[i + 2] = false;
                i += 2;
                continue;
            }
            x = _items[i].Forward(x);
        }
        return x;
    }

    private bool CanFuse(int i) =>
        FuseBatchNormReluDropout && typeof(T) == typeof(float) && Kernels.BnReluDropout.IsSupported && i + 2 < _items.Count &&
        _items[i] is BatchNorm2d<T> && _items[i + 1] is ReLU<T> && _items[i + 2] is Dropout<T> { HasFixedMask: false };

    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var g = gradOutput;
        for (int i = _items.Count - 1; i >= 0; i--)
        {
            if (i >= 2 && _fusedAt.Length == _items.Count && _fusedAt[i - 2])
            {
                g = _items[i - 2].Backward(g);   // the fused BatchNorm2d goes back through Dropout and ReLU too
                i -= 2;
                continue;
            }
            g = _items[i].Backward(g);
        }
        return g;
    }
}
