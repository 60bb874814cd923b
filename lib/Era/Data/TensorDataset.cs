using Era.Engine;

namespace Era.Data;

/// <summary>Images [N, C, H, W] and their class labels, as torch.utils.data.TensorDataset.</summary>
public sealed class TensorDataset
{
    public TensorDataset(Tensor<float> images, int[] labels, string name = "dataset")
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Rank < 2 || images.Shape[0] != labels.Length)
            throw new ArgumentException($"{name}: {labels.Length} labels for images of shape {Tensor<float>.ShapeString(images.Shape)}");
        Images = images;
        Labels = labels;
        Name = name;
    }

    public Tensor<float> Images { get; }
    public int[] Labels { get; }
    public string Name { get; }
    public int Count => Labels.Length;

    /// <summary>Shape of one sample, e.g. [1, 28, 28].</summary>
    public int[] SampleShape => Images.Shape[1..];

    /// <summary>Floats per sample, e.g. 784.</summary>
    public int SampleSize => Images.Numel / Math.Max(1, Count);

    /// <summary>The first <paramref name="count"/> samples (copied).</summary>
    public TensorDataset Take(int count)
    {
        count = Math.Clamp(count, 0, Count);
        var images = new Tensor<float>(Images.Data.AsSpan(0, count * SampleSize).ToArray(), [count, .. SampleShape]);
        return new TensorDataset(images, Labels[..count], Name);
    }
}
