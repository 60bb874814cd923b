using System.Numerics;

namespace Era.Engine;

/// <summary>
/// Base of every layer, as torch.nn.Module: named parameters, buffers and children; train()/eval(); state_dict.
/// Each module implements its own explicit forward and backward (as in llm.c): Forward caches what the backward
/// needs; Backward takes ∂L/∂output, accumulates ∂L/∂parameters into each parameter's Grad and returns ∂L/∂input.
/// </summary>
public abstract class Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<(string Name, Parameter<T> Param)> _parameters = [];
    private readonly List<(string Name, Tensor<T> Buffer)> _buffers = [];
    private readonly List<(string Name, Module<T> Child)> _children = [];

    /// <summary>True in training mode (batch statistics, dropout on), false in eval mode.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>
    /// The forward pass. A layer returns its own output buffer, which its next Forward overwrites (no allocation per
    /// call, as in llm.c): copy it (Clone) to keep it. A whole model (MnistNet) returns a new tensor instead.
    /// </summary>
    public abstract Tensor<T> Forward(Tensor<T> input);

    /// <summary>
    /// Forward that never copies its result: the tensor returned is the module's own buffer, overwritten by the next
    /// call. For a layer it is Forward itself; a model whose Forward copies (MnistNet) overrides it. Training and
    /// evaluation loops call this.
    /// </summary>
    public virtual Tensor<T> ForwardNoCopy(Tensor<T> input) => Forward(input);

    /// <summary>Given ∂L/∂output of the last Forward, accumulates parameter gradients and returns ∂L/∂input.</summary>
    public abstract Tensor<T> Backward(Tensor<T> gradOutput);

    protected Parameter<T> RegisterParameter(string name, Tensor<T> value)
    {
        var p = new Parameter<T>(value);
        _parameters.Add((name, p));
        return p;
    }

    protected Tensor<T> RegisterBuffer(string name, Tensor<T> value)
    {
        _buffers.Add((name, value));
        return value;
    }

    protected TModule RegisterModule<TModule>(string name, TModule child) where TModule : Module<T>
    {
        _children.Add((name, child));
        return child;
    }

    public IEnumerable<(string Name, Module<T> Module)> NamedChildren() => _children;

    /// <summary>Parameters with their dotted state_dict names, e.g. "conv1.weight".</summary>
    public IEnumerable<(string Name, Parameter<T> Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (n, p) in _parameters) yield return (prefix + n, p);
        foreach (var (n, c) in _children)
            foreach (var item in c.NamedParameters(prefix + n + ".")) yield return item;
    }

    /// <summary>Buffers (running statistics, counters) with their dotted names, e.g. "bn1.running_mean".</summary>
    public IEnumerable<(string Name, Tensor<T> Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var (n, b) in _buffers) yield return (prefix + n, b);
        foreach (var (n, c) in _children)
            foreach (var item in c.NamedBuffers(prefix + n + ".")) yield return item;
    }

    public IEnumerable<(string Name, Module<T> Module)> NamedModules(string prefix = "")
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach (var (n, c) in _children)
            foreach (var item in c.NamedModules(prefix + n + ".")) yield return item;
    }

    public IEnumerable<Parameter<T>> parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>
    /// Every parameter and buffer by dotted name, in torch's state_dict() order: each module's own parameters, then
    /// its own buffers, then its children's, depth first. The tensors are the model's own (no copy).
    /// </summary>
    public IReadOnlyList<(string Name, Tensor<T> Tensor)> state_dict()
    {
        var state = new List<(string Name, Tensor<T> Tensor)>();
        AddState(state, "");
        return state;
    }

    private void AddState(List<(string Name, Tensor<T> Tensor)> state, string prefix)
    {
        foreach (var (n, p) in _parameters) state.Add((prefix + n, p.Value));
        foreach (var (n, b) in _buffers) state.Add((prefix + n, b));
        foreach (var (n, c) in _children) c.AddState(state, prefix + n + ".");
    }

    public Module<T> train(bool mode = true)
    {
        Training = mode;
        foreach (var (_, c) in _children) c.train(mode);
        return this;
    }

    public Module<T> eval() => train(false);

    public void zero_grad()
    {
        foreach (var p in parameters()) p.Grad.Zero();
    }
}
