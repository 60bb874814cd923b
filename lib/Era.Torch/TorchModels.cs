using Era.Engine.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Era.Torch;

/// <summary>
/// A course CNN in TorchSharp, built from the same <see cref="Architecture"/> as Era.Engine's <see cref="MnistNet{T}"/>,
/// module for module the PyTorch model, so state_dict names match:
/// <code>
///   f  = Sequential(blk(...), ..., MaxPool2d(2), Conv2d(i, o, 1, bias=False), ..., AdaptiveAvgPool2d(1))
///   fc = Linear(C, 10)
///   forward(x) = log_softmax(fc(flatten(f(x))), 1)        [N, 1, 28, 28] → [N, 10] log-probabilities
/// </code>
/// libtorch computes each layer's backward itself (autograd); Era.Engine spells the same backward out by hand.
/// </summary>
public sealed class TorchMnistNet : Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // PyTorch's names: they become the state_dict names f.… and fc.…
    private readonly Sequential f;
    private readonly Linear fc;
#pragma warning restore IDE1006

    /// <param name="batchNorm">False (the ablation): blocks without BatchNorm2d, their convolutions with a bias.</param>
    /// <param name="globalAvgPool">False (the ablation): no global average pooling; fc reads all of the last feature maps.</param>
    public TorchMnistNet(Architecture architecture, double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true) : base(architecture.Name)
    {
        Architecture = architecture;
        var layers = new List<Module<Tensor, Tensor>>();
        foreach (var layer in architecture.Features)
        {
            if (layer is GlobalAvgPool && !globalAvgPool) continue;
            layers.Add(layer switch
            {
                Block b when batchNorm => Sequential(Conv2d(b.In, b.Out, 3, padding: b.Padding, bias: false), BatchNorm2d(b.Out), ReLU(), Dropout(dropout)),
                Block b => Sequential(Conv2d(b.In, b.Out, 3, padding: b.Padding, bias: true), ReLU(), Dropout(dropout)),
                MaxPool => MaxPool2d(2),
                Transition t => Conv2d(t.In, t.Out, 1, bias: false),
                GlobalAvgPool => AdaptiveAvgPool2d(1),
                _ => throw new ArgumentException($"unknown layer {layer}"),
            });
        }
        f = Sequential(layers.ToArray());
        fc = Linear(architecture.ClassifierInputs(globalAvgPool), architecture.Classes);
        RegisterComponents();
    }

    public Architecture Architecture { get; }

    /// <summary>[N, 1, H, W] images → [N, 10] log-probabilities. Call <see cref="CheckInput"/> first on untrusted shapes.</summary>
    public override Tensor forward(Tensor x) => functional.log_softmax(fc.forward(f.forward(x).flatten(1)), 1);

    /// <summary>
    /// Checks a batch's shape before it reaches libtorch: a shape error inside libtorch (a c10::Error) can end the
    /// whole process (a notebook's kernel) instead of throwing. Accepts [N, 1, H, W] with H, W large enough.
    /// </summary>
    public void CheckInput(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        string s = "[" + string.Join(", ", shape) + "]";
        int min = Architecture.MinimumInputSize;
        if (shape.Length != 4 || shape[0] < 1 || shape[1] != 1)
            throw new ArgumentException($"{Architecture.Name}: expected images of shape [N, 1, H, W], got {s}");
        if (shape[2] < min || shape[3] < min)
            throw new ArgumentException($"{Architecture.Name}: images of {shape[2]}x{shape[3]} are too small, the model needs at least {min}x{min}; got {s}");
    }

    /// <summary>The state_dict in PyTorch's order (each module's parameters, then its buffers, then its children's), as Era.Engine's.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> StateDict()
    {
        var state = new List<(string, Tensor)>();
        Add(this, "");
        return state;

        void Add(Module m, string prefix)
        {
            foreach (var (n, p) in m.named_parameters(recurse: false)) state.Add((prefix + n, p));
            foreach (var (n, b) in m.named_buffers(recurse: false)) state.Add((prefix + n, b));
            foreach (var (n, c) in m.named_children()) Add(c, prefix + n + ".");
        }
    }

    /// <summary>Trainable parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());
}

/// <summary>Creates the course models by name, on the chosen device.</summary>
public static class TorchModels
{
    /// <summary>
    /// A new model (reference, course or tiny) with TorchSharp's default initialization, seeded by
    /// torch.manual_seed, moved to <paramref name="device"/> (default: <see cref="TorchDevice.Default"/>).
    /// </summary>
    public static TorchMnistNet Create(string name, Device? device = null, double dropout = 0.05, bool batchNorm = true, bool globalAvgPool = true)
    {
        var architecture = Architecture.Get(name);
        TorchNative.EnsureLoaded();
        var model = new TorchMnistNet(architecture, dropout, batchNorm, globalAvgPool);
        model.to(device ?? TorchDevice.Default);
        return model;
    }
}

/// <summary>Which device to use: CUDA when a GPU and a CUDA build of libtorch are there, else the CPU.</summary>
public static class TorchDevice
{
    /// <summary>cuda if torch.cuda.is_available(), else cpu.</summary>
    public static Device Default
    {
        get
        {
            TorchNative.EnsureLoaded();
            return cuda.is_available() ? CUDA : CPU;
        }
    }

    /// <summary>"cpu", "cuda" or "auto" (null) → a device; "cuda" without a GPU is a clear error.</summary>
    public static Device Parse(string? name)
    {
        TorchNative.EnsureLoaded();
        return name switch
        {
            null or "auto" => Default,
            "cpu" => CPU,
            "cuda" => cuda.is_available() ? CUDA
                : throw new ArgumentException("device cuda: no CUDA device (this build references libtorch-cpu; build with -p:EraTorchCuda=true on a GPU machine)"),
            _ => throw new ArgumentException($"unknown device '{name}' (cpu, cuda)"),
        };
    }
}
