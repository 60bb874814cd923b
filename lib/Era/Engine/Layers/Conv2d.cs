using System.Numerics;
using System.Runtime.CompilerServices;
using Era.Engine.Kernels;

namespace Era.Engine.Layers;

/// <summary>
/// torch.nn.Conv2d(in, out, kernel, stride = 1, padding = 0, bias = true) on [N, Cin, H, W] → [N, Cout, Ho, Wo],
/// Ho = (H + 2·padding − kernel)/stride + 1, weight [Cout, Cin, k, k], bias [Cout].
///   y[n,o,i,j] = b[o] + Σ_{c,u,v} W[o,c,u,v] · x[n, c, i·s + u − p, j·s + v − p]   (x = 0 outside the image)
/// Local derivatives: ∂y/∂W[o,c,u,v] = x[n,c,i·s+u−p, j·s+v−p], ∂y/∂b[o] = 1, ∂y/∂x = W, so
///   dW[o,c,u,v] += Σ_{n,i,j} dy[n,o,i,j] · x[n,c,i·s+u−p, j·s+v−p],   db[o] += Σ_{n,i,j} dy[n,o,i,j],
///   dx[n,c,i·s+u−p, j·s+v−p] += Σ_o W[o,c,u,v] · dy[n,o,i,j].
/// <see cref="ForwardReference"/>/<see cref="BackwardReference"/> are these loops as written, the readable path. With
/// <see cref="torch.backends.fast"/> enabled, for float with stride 1 on an AVX2+FMA CPU, <see cref="FastConv2d"/>
/// computes the same sums with SIMD kernels over the batch split across threads (see Kernels/FastConv2d.cs); tests
/// check both paths agree.
/// Init as PyTorch: W, b ~ U(−1/√fan_in, 1/√fan_in), fan_in = Cin·k·k (kaiming_uniform_ with a = √5).
/// </summary>
public sealed class Conv2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _input, _output, _gradInput;
    private FastConv2d? _fast;

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true)
    {
        if (inChannels < 1 || outChannels < 1 || kernelSize < 1 || stride < 1 || padding < 0)
            throw new ArgumentException($"Conv2d: invalid arguments (in {inChannels}, out {outChannels}, kernel {kernelSize}, stride {stride}, padding {padding})");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        weight = RegisterParameter("weight", new Tensor<T>(outChannels, inChannels, kernelSize, kernelSize));
        int fanIn = inChannels * kernelSize * kernelSize;
        init.kaiming_uniform_(weight.Value, Math.Sqrt(5), fanIn);
        if (bias)
        {
            this.bias = RegisterParameter("bias", new Tensor<T>(outChannels));
            double bound = 1 / Math.Sqrt(fanIn);
            init.uniform_(this.bias.Value, -bound, bound);
        }
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
#pragma warning disable IDE1006 // PyTorch names
    public Parameter<T> weight { get; }
    public Parameter<T>? bias { get; }
#pragma warning restore IDE1006

    /// <summary>
    /// False skips computing ∂L/∂input (Backward then returns zeros), as for a PyTorch input without requires_grad:
    /// the first layer of a network does not need the gradient with respect to the images.
    /// </summary>
    public bool InputRequiresGrad { get; set; } = true;

    /// <summary>The SIMD kernels apply: <see cref="torch.backends.fast"/> enabled, float, stride 1, padding &lt; kernel, AVX2+FMA.</summary>
    private bool Fast => torch.backends.fast.enabled && typeof(T) == typeof(float) && Stride == 1 && Padding < KernelSize && FastConv2d.IsSupported;

    public (int Ho, int Wo) OutputSize(int h, int w) =>
        ((h + 2 * Padding - KernelSize) / Stride + 1, (w + 2 * Padding - KernelSize) / Stride + 1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Forward(Tensor<T> input)
    {
        Shapes.CheckInput("Conv2d", input, -1, InChannels, -1, -1);
        int n = input.Shape[0], h = input.Shape[2], w = input.Shape[3];
        if (h + 2 * Padding < KernelSize || w + 2 * Padding < KernelSize)
            throw new ArgumentException($"Conv2d: input {Tensor<T>.ShapeString(input.Shape)} with padding {Padding} is smaller than the kernel {KernelSize}×{KernelSize}");
        var (ho, wo) = OutputSize(h, w);
        _input = input;
        var y = Buffers.Ensure(ref _output, n, OutChannels, ho, wo);
        if (Fast)
        {
            _fast ??= new FastConv2d(InChannels, OutChannels, KernelSize, Padding);
            _fast.Forward((float[])(object)input.Data, n, h, w, (float[])(object)weight.Value.Data,
                bias is null ? null : (float[])(object)bias.Value.Data, (float[])(object)y.Data);
        }
        else ForwardReference(input, y);
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var x = _input ?? throw new InvalidOperationException("Conv2d.Backward: call Forward first");
        Shapes.CheckSame("Conv2d.Backward", gradOutput, _output!);
        var dx = Buffers.EnsureLike(ref _gradInput, x);
        if (Fast)
        {
            _fast ??= new FastConv2d(InChannels, OutChannels, KernelSize, Padding);
            _fast.Backward((float[])(object)x.Data, x.Shape[0], x.Shape[2], x.Shape[3], (float[])(object)weight.Value.Data,
                (float[])(object)gradOutput.Data, (float[])(object)weight.Grad.Data,
                bias is null ? null : (float[])(object)bias.Grad.Data, InputRequiresGrad ? (float[])(object)dx.Data : null);
        }
        else BackwardReference(x, gradOutput, dx);
        if (!InputRequiresGrad) dx.Zero();
        return dx;
    }

    /// <summary>y[n,o,i,j] = b[o] + Σ_{c,u,v} W[o,c,u,v] · x[n, c, i·s + u − p, j·s + v − p] — the definition, loop by loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void ForwardReference(Tensor<T> input, Tensor<T> output)
    {
        int n = input.Shape[0], cin = InChannels, h = input.Shape[2], w = input.Shape[3];
        int cout = OutChannels, k = KernelSize, s = Stride, p = Padding, ho = output.Shape[2], wo = output.Shape[3];
        var x = input.Data;
        var wt = weight.Value.Data;
        var y = output.Data;
        for (int b = 0; b < n; b++)
            for (int o = 0; o < cout; o++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++)
                    {
                        T sum = bias is null ? T.Zero : bias.Value.Data[o];
                        for (int c = 0; c < cin; c++)
                            for (int u = 0; u < k; u++)
                            {
                                int iy = i * s + u - p;
                                if (iy < 0 || iy >= h) continue;                     // zero padding
                                for (int v = 0; v < k; v++)
                                {
                                    int ix = j * s + v - p;
                                    if (ix < 0 || ix >= w) continue;
                                    sum += wt[((o * cin + c) * k + u) * k + v] * x[((b * cin + c) * h + iy) * w + ix];
                                }
                            }
                        y[((b * cout + o) * ho + i) * wo + j] = sum;
                    }
    }

    /// <summary>
    /// The chain rule through the same loops: each output's dy flows to the weight (times x) and to the input pixel
    /// (times W). dW and db are sums over the whole batch (N·Ho·Wo terms each), kept in double until the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void BackwardReference(Tensor<T> input, Tensor<T> gradOutput, Tensor<T> gradInput)
    {
        int n = input.Shape[0], cin = InChannels, h = input.Shape[2], w = input.Shape[3];
        int cout = OutChannels, k = KernelSize, s = Stride, p = Padding, ho = gradOutput.Shape[2], wo = gradOutput.Shape[3];
        var x = input.Data;
        var wt = weight.Value.Data;
        var dy = gradOutput.Data;
        var dx = gradInput.Data;
        var dw = new double[wt.Length];
        var db = new double[cout];
        gradInput.Zero();
        for (int b = 0; b < n; b++)
            for (int o = 0; o < cout; o++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++)
                    {
                        T g = dy[((b * cout + o) * ho + i) * wo + j];
                        db[o] += double.CreateChecked(g);                              // db += dy
                        for (int c = 0; c < cin; c++)
                            for (int u = 0; u < k; u++)
                            {
                                int iy = i * s + u - p;
                                if (iy < 0 || iy >= h) continue;
                                for (int v = 0; v < k; v++)
                                {
                                    int ix = j * s + v - p;
                                    if (ix < 0 || ix >= w) continue;
                                    int wi = ((o * cin + c) * k + u) * k + v, xi = ((b * cin + c) * h + iy) * w + ix;
                                    dw[wi] += double.CreateChecked(g * x[xi]);          // dW += dy · x
                                    dx[xi] += g * wt[wi];                               // dx += dy · W
                                }
                            }
                    }
        for (int i = 0; i < dw.Length; i++) weight.Grad.Data[i] += T.CreateChecked(dw[i]);
        if (bias is not null) for (int o = 0; o < cout; o++) bias.Grad.Data[o] += T.CreateChecked(db[o]);
    }
}
