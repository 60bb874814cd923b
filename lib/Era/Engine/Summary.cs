using System.Globalization;
using System.Numerics;
using System.Text;
using Era.Engine.Layers;

namespace Era.Engine;

/// <summary>One layer of <see cref="Summary.summary"/>: output shape (batch shown as −1), parameters, receptive field.</summary>
/// <param name="ReceptiveField">Side of the input square that one output pixel of this layer sees.</param>
/// <param name="Jump">Distance in input pixels between two adjacent output pixels of this layer.</param>
/// <param name="Macs">Multiply–accumulates of this layer's forward pass for ONE image.</param>
public sealed record SummaryRow(string Name, string Type, int[] OutputShape, long Parameters, int ReceptiveField, int Jump, long Macs);

/// <summary>The table and totals of <see cref="Summary.summary"/> (memory in MB as torchsummary: 1 MB = 1024² bytes).</summary>
public sealed record ModelSummary(
    IReadOnlyList<SummaryRow> Rows, int[] InputShape, long TotalParameters, long TrainableParameters,
    double InputMB, double ForwardBackwardMB, double ParamsMB)
{
    public double TotalMB => InputMB + ForwardBackwardMB + ParamsMB;

    /// <summary>Σ MACs of a forward pass for one image (a training step costs about 3× this, times 2 FLOPs per MAC).</summary>
    public long TotalMacs => Rows.Sum(r => r.Macs);

    public override string ToString() => ToText();

    public string ToText()
    {
        var ci = CultureInfo.InvariantCulture;
        string[] head = ["Layer", "Type", "Output Shape", "Param #", "RF", "Jump", "MACs"];
        var cells = Rows.Select(r => new[]
        {
            r.Name, r.Type, "[" + string.Join(", ", r.OutputShape.Select((d, i) => i == 0 ? "-1" : d.ToString(ci))) + "]",
            r.Parameters.ToString("N0", ci), r.ReceptiveField.ToString(ci), r.Jump.ToString(ci), r.Macs.ToString("N0", ci),
        }).ToList();
        var width = head.Select((h, c) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(r => r[c].Length))).ToArray();
        var sb = new StringBuilder();
        string Line(string[] row) => string.Join("  ", row.Select((s, c) => c >= 3 ? s.PadLeft(width[c]) : s.PadRight(width[c]))).TrimEnd();
        string rule = new('-', width.Sum() + 2 * (width.Length - 1));
        sb.AppendLine(rule).AppendLine(Line(head)).AppendLine(rule.Replace('-', '='));
        foreach (var row in cells) sb.AppendLine(Line(row));
        sb.AppendLine(rule.Replace('-', '='));
        sb.AppendLine(ci, $"Total params: {TotalParameters:N0}");
        sb.AppendLine(ci, $"Trainable params: {TrainableParameters:N0}");
        sb.AppendLine(ci, $"Non-trainable params: {TotalParameters - TrainableParameters:N0}");
        sb.AppendLine(ci, $"Forward MACs per image: {TotalMacs:N0}");
        sb.AppendLine(rule);
        sb.AppendLine(ci, $"Input size (MB): {InputMB:F2}");
        sb.AppendLine(ci, $"Forward/backward pass size (MB): {ForwardBackwardMB:F2}");
        sb.AppendLine(ci, $"Params size (MB): {ParamsMB:F2}");
        sb.AppendLine(ci, $"Estimated Total Size (MB): {TotalMB:F2}");
        sb.AppendLine(rule);
        return sb.ToString();
    }
}

/// <summary>
/// torchsummary's summary(model, input_size) plus the receptive field. The leaf modules (those without children)
/// are run one after the other, in registration order, on one zero image in eval mode — true for Sequential and
/// ReferenceNet; the result is checked against model.Forward and an error says so if the order differs.
/// Receptive field arithmetic (input: rf = 1, jump = 1): a layer with kernel k and stride s gives
///   rf_out = rf_in + (k − 1)·jump_in,   jump_out = jump_in · s
/// (padding shifts the field but does not change its size; global average pooling is a kernel as large as its input).
/// </summary>
#pragma warning disable IDE1006, CA1707
public static class Summary
{
    /// <summary>Summary for inputs of shape <paramref name="inputShape"/> = (C, H, W) without the batch dimension.</summary>
    public static ModelSummary summary<T>(Module<T> model, params int[] inputShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        if (inputShape is null || inputShape.Length == 0 || inputShape.Any(d => d < 1))
            throw new ArgumentException($"summary: input shape must be positive dimensions without the batch, e.g. (1, 28, 28), got {Tensor<T>.ShapeString(inputShape ?? [])}");
        bool wasTraining = model.Training;
        model.eval();
        try
        {
            var shape = new int[inputShape.Length + 1];
            shape[0] = 1;
            inputShape.CopyTo(shape, 1);
            var x = new Tensor<T>(shape);
            var rows = new List<SummaryRow>();
            int rf = 1, jump = 1;
            long activations = 0;
            foreach (var (name, m) in model.NamedModules().Where(m => !m.Module.NamedChildren().Any()))
            {
                var input = x;
                x = m.Forward(input);
                long macs = 0;
                int k = 1, s = 1;
                switch (m)
                {
                    case Conv2d<T> conv:
                        k = conv.KernelSize; s = conv.Stride;
                        macs = (long)conv.OutChannels * conv.InChannels * k * k * x.Shape[2] * x.Shape[3];
                        break;
                    case MaxPool2d<T> pool:
                        k = pool.KernelSize; s = pool.Stride;
                        break;
                    case AdaptiveAvgPool2d<T>:
                        k = input.Shape[2]; s = input.Shape[2];
                        break;
                    case Linear<T> lin:
                        macs = (long)lin.InFeatures * lin.OutFeatures;
                        break;
                }
                rf += (k - 1) * jump;
                jump *= s;
                activations += x.Numel;
                string type = m.GetType().Name;
                type = type.Contains('`') ? type[..type.IndexOf('`')] : type;
                rows.Add(new SummaryRow(name, type, (int[])x.Shape.Clone(), m.NamedParameters().Sum(p => (long)p.Parameter.Numel), rf, jump, macs));
            }
            var full = model.Forward(new Tensor<T>(shape));
            if (!full.SameShape(x))
                throw new InvalidOperationException($"summary: running the layers in registration order gives {Tensor<T>.ShapeString(x.Shape)} but the model's Forward gives {Tensor<T>.ShapeString(full.Shape)}; summary needs a model whose layers run in registration order");
            int bytes = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            const double MB = 1024.0 * 1024.0;
            long total = model.parameters().Sum(p => (long)p.Numel);
            long trainable = model.parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Numel);
            long inputNumel = inputShape.Aggregate(1L, (a, d) => a * d);
            return new ModelSummary(rows, (int[])inputShape.Clone(), total, trainable,
                inputNumel * bytes / MB, 2.0 * activations * bytes / MB, total * bytes / MB);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
#pragma warning restore IDE1006, CA1707
