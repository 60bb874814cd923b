using Era.Engine;

namespace Era.Data;

/// <summary>One mini-batch: images [B, C, H, W] and their labels. The loader reuses these buffers for the next batch.</summary>
public readonly record struct Batch(int Index, Tensor<float> Images, int[] Labels)
{
    public int Count => Labels.Length;
}

/// <summary>
/// Mini-batches of a dataset, as torch.utils.data.DataLoader: each pass (epoch) visits every sample once, in a new
/// random order when <c>shuffle</c> is on (drawn from the seeded generator, so a seed fixes the order), else in order.
/// Copies samples into two preallocated batch buffers (full and last partial batch): nothing is allocated per batch,
/// and a batch's contents are only valid until the next one is produced.
/// </summary>
public sealed class DataLoader
{
    private readonly TensorDataset _data;
    private readonly Generator _generator;
    private readonly int[] _order;
    private readonly Batch _full;
    private readonly Batch? _tail;

    public DataLoader(TensorDataset dataset, int batch_size, bool shuffle = false, bool drop_last = false, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (batch_size <= 0) throw new ArgumentOutOfRangeException(nameof(batch_size), batch_size, "batch_size must be positive");
        _data = dataset;
        BatchSize = batch_size;
        Shuffle = shuffle;
        DropLast = drop_last;
        _generator = generator ?? torch.default_generator;
        _order = new int[dataset.Count];
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        int full = Math.Min(batch_size, dataset.Count);
        _full = new Batch(0, new Tensor<float>([full, .. dataset.SampleShape]), new int[full]);
        int rest = dataset.Count % batch_size;
        if (rest != 0 && !drop_last && dataset.Count > batch_size)
            _tail = new Batch(0, new Tensor<float>([rest, .. dataset.SampleShape]), new int[rest]);
    }

    public int BatchSize { get; }
    public bool Shuffle { get; }
    public bool DropLast { get; }
    public TensorDataset Dataset => _data;

    /// <summary>Batches per epoch.</summary>
    public int Count => DropLast ? _data.Count / BatchSize : (_data.Count + BatchSize - 1) / BatchSize;

    private bool _inEpoch;

    /// <summary>
    /// One epoch of batches (reshuffled at the start of each call when shuffle is on). The batches share the loader's
    /// buffers, so one epoch of a loader is enumerated at a time: starting a second before the first is finished throws.
    /// </summary>
    public IEnumerable<Batch> Epoch()
    {
        if (_inEpoch)
            throw new InvalidOperationException("DataLoader.Epoch: an epoch of this loader is still being enumerated (its batches share one buffer); finish it first, or use a second DataLoader");
        _inEpoch = true;
        try
        {
            if (Shuffle) _generator.Permutation(_order);
            int size = _data.SampleSize;
            for (int b = 0; b < Count; b++)
            {
                int start = b * BatchSize, n = Math.Min(BatchSize, _data.Count - start);
                var batch = n == _full.Count ? _full : _tail!.Value;
                for (int i = 0; i < n; i++)
                {
                    int src = _order[start + i];
                    _data.Images.Data.AsSpan(src * size, size).CopyTo(batch.Images.Data.AsSpan(i * size, size));
                    batch.Labels[i] = _data.Labels[src];
                }
                yield return batch with { Index = b };
            }
        }
        finally
        {
            _inEpoch = false;
        }
    }
}
