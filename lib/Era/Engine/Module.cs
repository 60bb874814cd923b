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
    /// The forward pass. One rule for every module, a layer or a whole model (as in llm.c, no allocation per call): the
    /// result is lent, not given — the module's own output buffer (or, for a module that changes nothing, such as
    /// Dropout in eval mode or Flatten, the input's numbers), valid until the next Forward. Read it, or Clone it to keep it;
    /// never write to it.
    /// </summary>
    public abstract Tensor<T> Forward(Tensor<T> input);

    /// <summary>Given ∂L/∂output of the last Forward, accumulates parameter gradients and returns ∂L/∂input (lent, by the same rule as Forward's result).</summary>
    public abstract Tensor<T> Backward(Tensor<T> gradOutput);

    // Hooks by kind: before forward, after forward, before backward, after backward.
    private readonly Action<Module<T>>?[] _hooks = new Action<Module<T>>?[4];

    /// <summary>
    /// <see cref="Forward"/> with this module's hooks around it, as TorchSharp's Module.call wraps forward: a container
    /// (Sequential, a model, a block) runs its children through Call, so a hook sees each child run.
    /// </summary>
    public Tensor<T> Call(Tensor<T> input)
    {
        _hooks[0]?.Invoke(this);
        var y = Forward(input);
        _hooks[1]?.Invoke(this);
        return y;
    }

    /// <summary><see cref="Backward"/> with this module's backward hooks around it (containers run their children's backward through it).</summary>
    public Tensor<T> CallBackward(Tensor<T> gradOutput)
    {
        _hooks[2]?.Invoke(this);
        var dx = Backward(gradOutput);
        _hooks[3]?.Invoke(this);
        return dx;
    }

#pragma warning disable IDE1006, CA1707 // PyTorch's names
    /// <summary>Called before each <see cref="Call"/>'s Forward (torch.nn.Module.register_forward_pre_hook, without arguments); dispose the handle to remove it.</summary>
    public IDisposable register_forward_pre_hook(Action<Module<T>> hook) => Hook(0, hook);

    /// <summary>Called after each <see cref="Call"/>'s Forward (register_forward_hook).</summary>
    public IDisposable register_forward_hook(Action<Module<T>> hook) => Hook(1, hook);

    /// <summary>Called before each <see cref="CallBackward"/>'s Backward (register_full_backward_pre_hook).</summary>
    public IDisposable register_full_backward_pre_hook(Action<Module<T>> hook) => Hook(2, hook);

    /// <summary>Called after each <see cref="CallBackward"/>'s Backward (register_full_backward_hook).</summary>
    public IDisposable register_full_backward_hook(Action<Module<T>> hook) => Hook(3, hook);
#pragma warning restore IDE1006, CA1707

    private HookHandle Hook(int kind, Action<Module<T>> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        _hooks[kind] += hook;
        return new HookHandle(() => _hooks[kind] -= hook);
    }

    private sealed class HookHandle(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }

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
