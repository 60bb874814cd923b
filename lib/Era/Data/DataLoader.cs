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
/// <para>
/// With an <see cref="Augmentation"/> each image is transformed as it is copied, on a background thread that prepares
/// batch b + 1 while the caller trains on batch b (two sets of buffers, handed over with semaphores). One seed per
/// epoch, drawn from the generator after the shuffle, fixes every image's transform, so a seed fixes the epoch.
/// </para>
/// </summary>
public sealed class DataLoader
{
    private readonly TensorDataset _data;
    private readonly Generator _generator;
    private readonly int[] _order;
    private readonly Batch[] _full;   // one buffer, or two when augmenting (one being trained on, one being prepared)
    private readonly Batch?[] _tail;
    private readonly (int Channels, int Height, int Width) _imageShape;   // of one sample, when augmenting

    public DataLoader(TensorDataset dataset, int batch_size, bool shuffle = false, bool drop_last = false, Generator? generator = null,
        Augmentation? augmentation = null)
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
        Augmentation = augmentation;
        if (augmentation is not null && dataset.SampleShape.Length != 3)
            throw new ArgumentException($"DataLoader: augmentation needs images [N, C, H, W], got {Tensor<float>.ShapeString(dataset.Images.Shape)}");
        if (augmentation is not null) _imageShape = (dataset.SampleShape[0], dataset.SampleShape[1], dataset.SampleShape[2]);
        int sets = augmentation is null ? 1 : 2;
        _full = new Batch[sets];
        _tail = new Batch?[sets];
        int full = Math.Min(batch_size, dataset.Count), rest = dataset.Count % batch_size;
        for (int k = 0; k < sets; k++)
        {
            _full[k] = new Batch(0, new Tensor<float>([full, .. dataset.SampleShape]), new int[full]);
            if (rest != 0 && !drop_last && dataset.Count > batch_size)
                _tail[k] = new Batch(0, new Tensor<float>([rest, .. dataset.SampleShape]), new int[rest]);
        }
    }

    /// <summary>The training-time transform applied to each image, or null.</summary>
    public Augmentation? Augmentation { get; }

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
            if (Augmentation is null)
            {
                for (int b = 0; b < Count; b++)
                {
                    Fill(b, _full[0], _tail[0], 0);
                    yield return Slot(b, 0);
                }
            }
            else
            {
                foreach (var batch in Prefetched(_generator.NextUInt64())) yield return batch;
            }
        }
        finally
        {
            _inEpoch = false;
        }
    }

    /// <summary>Buffer set <paramref name="set"/>'s buffer for batch <paramref name="b"/> (full, or the short last one).</summary>
    private Batch Slot(int b, int set) =>
        (Math.Min(BatchSize, _data.Count - b * BatchSize) == _full[set].Count ? _full[set] : _tail[set]!.Value) with { Index = b };

    /// <summary>Copies (and augments, with the epoch's seed) the samples of batch <paramref name="b"/> into their buffer.</summary>
    private void Fill(int b, Batch full, Batch? tail, ulong seed)
    {
        int size = _data.SampleSize, start = b * BatchSize, n = Math.Min(BatchSize, _data.Count - start);
        var batch = n == full.Count ? full : tail!.Value;
        for (int i = 0; i < n; i++)
        {
            int src = _order[start + i];
            var from = _data.Images.Data.AsSpan(src * size, size);
            var to = batch.Images.Data.AsSpan(i * size, size);
            if (Augmentation is null) from.CopyTo(to);
            else
            {
                var (channels, height, width) = _imageShape;
                for (int c = 0; c < channels; c++)
                    Augmentation.Apply(from.Slice(c * height * width, height * width), to.Slice(c * height * width, height * width), height, width, seed, start + i);
            }
            batch.Labels[i] = _data.Labels[src];
        }
    }

    /// <summary>
    /// The epoch's batches, each prepared on a background thread one batch ahead: the worker fills set b % 2 once it
    /// is free, the caller takes it once it is ready and frees it when it asks for the next batch.
    /// </summary>
    private IEnumerable<Batch> Prefetched(ulong seed)
    {
        using var ready0 = new SemaphoreSlim(0);
        using var ready1 = new SemaphoreSlim(0);
        using var free0 = new SemaphoreSlim(1);
        using var free1 = new SemaphoreSlim(1);
        SemaphoreSlim[] ready = [ready0, ready1], free = [free0, free1];
        bool stop = false;
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try
            {
                for (int b = 0; b < Count; b++)
                {
                    free[b & 1].Wait();
                    if (Volatile.Read(ref stop)) return;
                    Fill(b, _full[b & 1], _tail[b & 1], seed);
                    ready[b & 1].Release();
                }
            }
            catch (Exception e)
            {
                failure = e;
                ready[0].Release();
                ready[1].Release();
            }
        })
        { IsBackground = true, Name = "DataLoader augmentation" };
        worker.Start();
        try
        {
            for (int b = 0; b < Count; b++)
            {
                ready[b & 1].Wait();
                if (Volatile.Read(ref failure) is { } e) throw new InvalidOperationException($"DataLoader: preparing batch {b} failed: {e.Message}", e);
                yield return Slot(b, b & 1);
                free[b & 1].Release();
            }
        }
        finally
        {
            // Stopped early (break, exception): let the worker see the flag and end before the semaphores go.
            Volatile.Write(ref stop, true);
            free[0].Release();
            free[1].Release();
            worker.Join();
        }
    }
}
