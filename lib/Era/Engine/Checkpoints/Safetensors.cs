using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Era.IO;

namespace Era.Engine.Checkpoints;

/// <summary>A checkpoint that cannot be read or does not fit the model; the message lists every problem found.</summary>
public sealed class CheckpointException(string message) : Exception(message);

/// <summary>One tensor of a safetensors file: its dtype ("F32", "F64", "I64", ...), shape and raw little-endian bytes.</summary>
public sealed record SafeTensor(string Name, string Dtype, int[] Shape, ReadOnlyMemory<byte> Bytes)
{
    public long Numel => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>The values converted to T (floats widened or rounded, integers converted), as PyTorch's copy_.</summary>
    public T[] ToArray<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[Numel];
        ReadOnlySpan<byte> b = Bytes.Span;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Dtype switch
            {
                "F32" => T.CreateTruncating(BinaryPrimitives.ReadSingleLittleEndian(b[(4 * i)..])),
                "F64" => T.CreateTruncating(BinaryPrimitives.ReadDoubleLittleEndian(b[(8 * i)..])),
                "I64" => T.CreateTruncating(BinaryPrimitives.ReadInt64LittleEndian(b[(8 * i)..])),
                "I32" => T.CreateTruncating(BinaryPrimitives.ReadInt32LittleEndian(b[(4 * i)..])),
                _ => throw new CheckpointException($"{Name}: dtype {Dtype} cannot be converted to {typeof(T).Name}"),
            };
        }
        return result;
    }
}

/// <summary>
/// Reads and writes state dicts in the safetensors format (https://github.com/huggingface/safetensors), so weights
/// move between this engine and PyTorch. Layout:
/// <code>
///   8 bytes     N, the header length (unsigned little-endian)
///   N bytes     JSON: {"name": {"dtype": "F32", "shape": [8, 1, 3, 3], "data_offsets": [begin, end]}, ...,
///                      "__metadata__": {"key": "value"}}   (padded with spaces to a multiple of 8)
///   the rest    the tensors' raw little-endian bytes; offsets count from here
/// </code>
/// Names are PyTorch's state_dict names. Float tensors are stored as F32 (or F64 for a double model);
/// BatchNorm's num_batches_tracked as a 0-dimensional I64, as PyTorch keeps it.
/// </summary>
public static class Safetensors
{
    private const long MaxHeaderBytes = 100_000_000; // as the reference implementation

    private static readonly Dictionary<string, int> DtypeSizes = new()
    {
        ["BOOL"] = 1,
        ["U8"] = 1,
        ["I8"] = 1,
        ["F8_E4M3"] = 1,
        ["F8_E5M2"] = 1,
        ["I16"] = 2,
        ["U16"] = 2,
        ["F16"] = 2,
        ["BF16"] = 2,
        ["I32"] = 4,
        ["U32"] = 4,
        ["F32"] = 4,
        ["F64"] = 8,
        ["I64"] = 8,
        ["U64"] = 8,
    };

    private static bool IsCounter(string name) => name == "num_batches_tracked" || name.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    /// <summary>Saves the model's state_dict (parameters and buffers) to <paramref name="path"/>, atomically.</summary>
    public static void Save<T>(Module<T> model, string path, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        Save(model.state_dict(), path, metadata);
    }

    /// <summary>Saves named tensors to <paramref name="path"/>, atomically (temporary file, then rename).</summary>
    public static void Save<T>(IEnumerable<(string Name, Tensor<T> Tensor)> tensors, string path,
        IReadOnlyDictionary<string, string>? metadata = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensors);
        string floatType = typeof(T) == typeof(float) ? "F32" : typeof(T) == typeof(double) ? "F64"
            : throw new NotSupportedException($"safetensors: element type {typeof(T).Name} is not supported");
        var entries = new List<(string Name, string Dtype, int[] Shape, byte[] Bytes)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__") throw new ArgumentException($"safetensors: invalid tensor name '{name}'");
            if (!seen.Add(name)) throw new ArgumentException($"safetensors: tensor name '{name}' appears twice");
            if (IsCounter(name) && tensor.Numel == 1)
            {
                var bytes = new byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(bytes, long.CreateTruncating(tensor.Data[0]));
                entries.Add((name, "I64", [], bytes));
            }
            else
            {
                entries.Add((name, floatType, tensor.Shape, LittleEndianBytes<T>(tensor.Data)));
            }
        }

        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape, bytes) in entries)
            {
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (int d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes.Length;
            }
            w.WriteEndObject();
        }
        int padded = (int)((json.Length + 7) / 8 * 8); // so that the data starts 8-byte aligned
        while (json.Length < padded) json.WriteByte((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
            stream.Write(length);
            json.Position = 0;
            json.CopyTo(stream);
            foreach (var e in entries) stream.Write(e.Bytes);
        });
    }

    /// <summary>
    /// Reads and validates a whole file: header length, JSON, dtypes, shapes and data offsets (in bounds, no overlaps,
    /// no holes). Throws <see cref="CheckpointException"/> naming the file and the problem.
    /// </summary>
    public static IReadOnlyDictionary<string, SafeTensor> Read(string path) => Read(path, out _);

    public static IReadOnlyDictionary<string, SafeTensor> Read(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        byte[] file;
        try
        {
            // The 8-byte header length first: a file it does not fit is refused before the rest is read.
            using var stream = FileEntry.OpenRegular(path);
            var length = new byte[Math.Min(8, stream.Length)];
            stream.ReadExactly(length);
            if (length.Length == 8) CheckHeaderLength(BinaryPrimitives.ReadUInt64LittleEndian(length), stream.Length, path);
            if (stream.Length > Array.MaxLength) throw new CheckpointException($"{path}: not a checkpoint of this course: {stream.Length} bytes");
            file = new byte[stream.Length];
            length.CopyTo(file, 0);
            stream.ReadExactly(file, length.Length, file.Length - length.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"{path}: cannot read the checkpoint: {e.Message}");
        }
        return Parse(file, path, out metadata);
    }

    private static void CheckHeaderLength(ulong headerLength, long fileLength, string source)
    {
        if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > (ulong)(fileLength - 8))
            throw Bad(source, $"header length {headerLength} does not fit a file of {fileLength} bytes (truncated or not safetensors?)");
    }

    private static CheckpointException Bad(string source, string what) => new($"{source}: not a valid safetensors file: {what}");

    /// <summary>Parses safetensors bytes; <paramref name="source"/> names them in error messages.</summary>
    public static IReadOnlyDictionary<string, SafeTensor> Parse(byte[] file, string source, out IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(file);
        CheckpointException Bad(string what) => Safetensors.Bad(source, what);

        if (file.Length < 8) throw Bad($"the file has {file.Length} bytes, fewer than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        CheckHeaderLength(headerLength, file.Length, source);
        var header = new ReadOnlyMemory<byte>(file, 8, (int)headerLength);
        var data = new ReadOnlyMemory<byte>(file, 8 + (int)headerLength, file.Length - 8 - (int)headerLength);
        if (header.Span[0] != (byte)'{') throw Bad("the header does not start with '{'");
        // JsonDocument takes invalid UTF-8 inside strings and fails only when a name is read, with a crash.
        if (!System.Text.Unicode.Utf8.IsValid(header.Span)) throw Bad("the header is not valid UTF-8");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Bad($"the header is not valid JSON ({e.Message})");
        }

        var tensors = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        var ranges = new List<(long Begin, long End, string Name)>();
        using (doc)
        {
            try
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad("the header is not a JSON object");
                foreach (var prop in doc.RootElement.EnumerateObject())
                {
                    if (prop.Name == "__metadata__")
                    {
                        if (prop.Value.ValueKind != JsonValueKind.Object) throw Bad("__metadata__ is not an object");
                        foreach (var m in prop.Value.EnumerateObject())
                            meta[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw Bad($"__metadata__.{m.Name} is not a string");
                        continue;
                    }
                    string name = prop.Name;
                    if (tensors.ContainsKey(name)) throw Bad($"tensor '{name}' appears twice");
                    var entry = prop.Value;
                    if (entry.ValueKind != JsonValueKind.Object
                        || !entry.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String
                        || !entry.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array
                        || !entry.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array
                        || offEl.GetArrayLength() != 2)
                        throw Bad($"tensor '{name}' needs \"dtype\" (string), \"shape\" (array) and \"data_offsets\" ([begin, end])");
                    string dtype = dtypeEl.GetString()!;
                    if (!DtypeSizes.TryGetValue(dtype, out int size)) throw Bad($"tensor '{name}' has unknown dtype '{dtype}'");
                    var shape = new List<int>();
                    long numel = 1;
                    foreach (var d in shapeEl.EnumerateArray())
                    {
                        if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int dim) || dim < 0)
                            throw Bad($"tensor '{name}' has an invalid shape {shapeEl.GetRawText()}");
                        shape.Add(dim);
                        numel = checked(numel * dim);
                        if (numel > Array.MaxLength) throw Bad($"tensor '{name}' has an impossibly large shape {shapeEl.GetRawText()}");
                    }
                    if (offEl[0].ValueKind != JsonValueKind.Number || offEl[1].ValueKind != JsonValueKind.Number
                        || !offEl[0].TryGetInt64(out long begin) || !offEl[1].TryGetInt64(out long end) || begin < 0 || end < begin)
                        throw Bad($"tensor '{name}' has invalid data_offsets {offEl.GetRawText()}");
                    if (end > data.Length)
                        throw Bad($"tensor '{name}' data_offsets {offEl.GetRawText()} run past the end of the data ({data.Length} bytes; truncated file?)");
                    if (end - begin != numel * size)
                        throw Bad($"tensor '{name}' has {end - begin} bytes but {dtype} {Tensor<float>.ShapeString(shape)} needs {numel * size}");
                    ranges.Add((begin, end, name));
                    tensors[name] = new SafeTensor(name, dtype, [.. shape], data.Slice((int)begin, (int)(end - begin)));
                }
            }
            catch (InvalidOperationException e)   // a string escape that is not Unicode ("\ud800" alone)
            {
                throw Bad($"the header holds a string that is not valid Unicode ({e.Message})");
            }
        }

        ranges.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        foreach (var (begin, end, name) in ranges)
        {
            if (begin < covered) throw Bad($"tensor '{name}' overlaps the previous tensor's data");
            if (begin > covered) throw Bad($"there is a gap in the data before tensor '{name}'");
            covered = end;
        }
        if (covered != data.Length) throw Bad($"the data has {data.Length} bytes but the tensors use {covered}");
        metadata = meta;
        return tensors;
    }

    /// <summary>
    /// Loads a checkpoint into the model, as load_state_dict(strict=True): first <see cref="Match"/> checks the whole
    /// file, and only then are the values copied, so a failing load changes nothing.
    /// </summary>
    public static void Load<T>(Module<T> model, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var state = model.state_dict();
        var tensors = Match(path, state.Select(s => (s.Name, s.Tensor.Shape)).ToList());
        // Convert everything first, then copy: nothing below can fail half-way.
        var values = tensors.Select(t => t.ToArray<T>()).ToList();
        for (int i = 0; i < state.Count; i++) values[i].CopyTo(state[i].Tensor.Data, 0);
    }

    /// <summary>
    /// Reads <paramref name="path"/> and checks it against a model's state_dict (names and shapes, in order) as
    /// load_state_dict(strict=True) does — exactly the model's names, each with the model's shape — and what PyTorch
    /// does not check: floats (F32, F64) for weights and statistics, an integer (I64, I32) for num_batches_tracked, and
    /// values a model can hold — finite and within float32's range (NaN or infinity means the run that wrote them
    /// diverged; such a model predicts one class for every image), running_var and the counter not negative. Every problem is listed in one
    /// <see cref="CheckpointException"/>; returns the file's tensors in the state_dict's order. Both engines load
    /// through this, so they accept and refuse the same files.
    /// </summary>
    public static IReadOnlyList<SafeTensor> Match(string path, IReadOnlyList<(string Name, int[] Shape)> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var file = Read(path);
        var problems = new List<string>();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, shape) in state)
        {
            expected.Add(name);
            if (!file.TryGetValue(name, out var st))
            {
                problems.Add($"missing {name} {Tensor<float>.ShapeString(shape)}");
                continue;
            }
            bool counter = IsCounter(name);
            bool shapeOk = st.Shape.AsSpan().SequenceEqual(shape) || (counter && st.Numel == 1 && shape.Aggregate(1L, (a, d) => a * d) == 1);
            if (!shapeOk)
                problems.Add($"shape mismatch for {name}: checkpoint {Tensor<float>.ShapeString(st.Shape)}, model {Tensor<float>.ShapeString(shape)}");
            else if (counter ? st.Dtype is not ("I64" or "I32") : st.Dtype is not ("F32" or "F64"))
                problems.Add($"{name}: dtype {st.Dtype}, but {(counter ? "a counter is an integer (I64 or I32)" : "weights and statistics are floats (F32 or F64)")}");
            else if (ValueProblem(st, counter) is string bad)
                problems.Add($"{name}: {bad}");
        }
        foreach (var name in file.Keys.Where(n => !expected.Contains(n)).Order(StringComparer.Ordinal))
            problems.Add($"unexpected {name} {Tensor<float>.ShapeString(file[name].Shape)}");
        if (problems.Count > 0)
            throw new CheckpointException($"{path}: the checkpoint does not match the model (nothing was loaded):\n  " + string.Join("\n  ", problems));
        return state.Select(s => file[s.Name]).ToList();
    }

    /// <summary>The first value no trained model holds, described, or null.</summary>
    private static string? ValueProblem(SafeTensor t, bool counter)
    {
        double[] v = t.ToArray<double>();
        bool variance = t.Name == "running_var" || t.Name.EndsWith(".running_var", StringComparison.Ordinal);
        for (int i = 0; i < v.Length; i++)
        {
            if (counter && v[i] < 0)
                return Invariant($"{v[i]}, but a counter counts up from 0");
            if (!double.IsFinite(v[i]))
                return Invariant($"{v[i]} at index {i} of {v.Length} (the run that wrote it diverged)");
            if (Math.Abs(v[i]) > float.MaxValue)   // an F64 file: infinite once in a float model
                return Invariant($"{v[i]} at index {i} of {v.Length}, beyond float32's range (the run that wrote it diverged)");
            if (variance && v[i] < 0)
                return Invariant($"{v[i]} at index {i} of {v.Length}, but a variance is never negative");
        }
        return null;
    }

    private static byte[] LittleEndianBytes<T>(T[] data) where T : unmanaged, IFloatingPointIeee754<T>
    {
        byte[] bytes = MemoryMarshal.AsBytes(data.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            int size = Marshal.SizeOf<T>();
            for (int i = 0; i < bytes.Length; i += size) bytes.AsSpan(i, size).Reverse();
        }
        return bytes;
    }

    internal static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
