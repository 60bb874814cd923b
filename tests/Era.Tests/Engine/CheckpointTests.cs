using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Era.Engine;
using Era.Engine.Checkpoints;
using Era.Engine.Models;
using Era.Engine.Optim;

namespace Era.Tests.Engine;

/// <summary>A module holding given parameters and buffers under given (dotted) names: a stand-in for any model's state_dict.</summary>
internal sealed class StateDictModule<T> : Module<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    public StateDictModule(IEnumerable<(string Name, int[] Shape, bool Buffer)> entries)
    {
        foreach (var (name, shape, buffer) in entries)
        {
            if (buffer) RegisterBuffer(name, new Tensor<T>(shape));
            else RegisterParameter(name, new Tensor<T>(shape));
        }
    }

    /// <summary>Entries named like PyTorch's state_dict: running stats and counters are buffers.</summary>
    public static StateDictModule<T> FromNames(IEnumerable<(string Name, int[] Shape)> entries) =>
        new(entries.Select(e => (e.Name, e.Shape, e.Name.Contains("running_", StringComparison.Ordinal) || e.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal))));

    /// <summary>
    /// Fills every tensor with distinct values: element i of state_dict tensor k is sin(1 + 7k + i/3), plus 1.5 for a
    /// running_var (a variance is not negative); counters get k + 1 (state_dict lists parameters, then buffers: in
    /// SmallNet the counter is tensor 7).
    /// </summary>
    public StateDictModule<T> FillDistinct()
    {
        int k = 0;
        foreach (var (name, t) in state_dict())
        {
            double offset = name.EndsWith("running_var", StringComparison.Ordinal) ? 1.5 : 0;
            for (int i = 0; i < t.Numel; i++)
                t.Data[i] = name.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? T.CreateTruncating(k + 1) : T.CreateTruncating(offset + Math.Sin(1 + 7 * k + i / 3.0));
            k++;
        }
        return this;
    }

    public override Tensor<T> Forward(Tensor<T> input) => input;
    public override Tensor<T> Backward(Tensor<T> gradOutput) => gradOutput;
}

[Collection(EngineCollection.Name)] // seeds the global generator / sets the thread count
public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly (string, int[])[] SmallNet =
    [
        ("conv1.weight", [4, 1, 3, 3]), ("bn1.weight", [4]), ("bn1.bias", [4]), ("bn1.running_mean", [4]),
        ("bn1.running_var", [4]), ("bn1.num_batches_tracked", []), ("fc.weight", [10, 4]), ("fc.bias", [10]),
    ];

    private static StateDictModule<float> Model() => StateDictModule<float>.FromNames(SmallNet);

    private static float[][] Snapshot(Module<float> m) => m.state_dict().Select(s => (float[])s.Tensor.Data.Clone()).ToArray();

    private static void AssertUnchanged(float[][] before, Module<float> m)
    {
        var now = m.state_dict();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], now[i].Tensor.Data);
    }

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void RoundTripRestoresEveryValue()
    {
        var a = Model().FillDistinct();
        string file = PathOf("a.safetensors");
        Safetensors.Save(a, file, new Dictionary<string, string> { ["format"] = "pt" });
        var b = Model();
        Safetensors.Load(b, file);
        var sa = a.state_dict();
        var sb = b.state_dict();
        for (int i = 0; i < sa.Count; i++) Assert.Equal(sa[i].Tensor.Data, sb[i].Tensor.Data);
        Assert.Equal(8f, b.NamedBuffers().Single(x => x.Name == "bn1.num_batches_tracked").Buffer.Data[0]);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp")); // atomic write left no temporary file
    }

    [Fact]
    public void FileLayoutFollowsTheSpecification()
    {
        string file = PathOf("layout.safetensors");
        Safetensors.Save(Model().FillDistinct(), file, new Dictionary<string, string> { ["format"] = "pt" });
        byte[] bytes = File.ReadAllBytes(file);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + n) % 8); // data 8-byte aligned
        using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n).TrimEnd(' '));
        var root = doc.RootElement;
        Assert.Equal("pt", root.GetProperty("__metadata__").GetProperty("format").GetString());
        var w = root.GetProperty("conv1.weight");
        Assert.Equal("F32", w.GetProperty("dtype").GetString());
        Assert.Equal([4, 1, 3, 3], w.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        var nbt = root.GetProperty("bn1.num_batches_tracked");
        Assert.Equal("I64", nbt.GetProperty("dtype").GetString());
        Assert.Equal(0, nbt.GetProperty("shape").GetArrayLength());
        long begin = nbt.GetProperty("data_offsets")[0].GetInt64();
        Assert.Equal(8L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)(8 + n + begin))));
        // conv1.weight element 0 of tensor 0 is sin(1), stored as a little-endian float32
        long wBegin = w.GetProperty("data_offsets")[0].GetInt64();
        Assert.Equal((float)Math.Sin(1), BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(8 + n + wBegin))));
        Assert.Equal(bytes.Length - 8 - n, root.EnumerateObject().Where(p => p.Name != "__metadata__").Sum(p => p.Value.GetProperty("data_offsets")[1].GetInt64() - p.Value.GetProperty("data_offsets")[0].GetInt64()));
    }

    [Fact]
    public void DoubleModelIsStoredAsF64()
    {
        var a = StateDictModule<double>.FromNames(SmallNet).FillDistinct();
        string file = PathOf("d.safetensors");
        Safetensors.Save(a, file);
        Assert.Equal("F64", Safetensors.Read(file)["fc.weight"].Dtype);
        var b = StateDictModule<double>.FromNames(SmallNet);
        Safetensors.Load(b, file);
        Assert.Equal(a.state_dict()[0].Tensor.Data, b.state_dict()[0].Tensor.Data);
    }

    [Fact]
    public void AnF64ValueBeyondFloat32sRangeIsRefused()
    {
        var a = StateDictModule<double>.FromNames(SmallNet).FillDistinct();
        a.state_dict()[0].Tensor.Data[1] = 1e300;   // finite as a double, infinite as a float
        string file = PathOf("huge.safetensors");
        Safetensors.Save(a, file);
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Load(Model(), file));
        Assert.Contains("conv1.weight: 1E+300 at index 1 of 36, beyond float32's range", e.Message);
    }

    [Fact]
    public void MismatchedNamesAndShapesAreAllReportedAndNothingIsLoaded()
    {
        string file = PathOf("other.safetensors");
        var other = StateDictModule<float>.FromNames(
        [
            ("conv1.weight", [4, 1, 5, 5]), ("bn1.weight", [4]), ("bn1.bias", [4]), ("bn1.running_mean", [4]),
            ("bn1.running_var", [4]), ("bn1.num_batches_tracked", []), ("fc.weight", [10, 4]), ("head.bias", [10]),
        ]).FillDistinct();
        Safetensors.Save(other, file);
        var model = Model().FillDistinct();
        foreach (var (_, t) in model.state_dict()) t.Data[0] = 42f;
        var before = Snapshot(model);
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Load(model, file));
        Assert.Contains("shape mismatch for conv1.weight: checkpoint [4, 1, 5, 5], model [4, 1, 3, 3]", e.Message);
        Assert.Contains("missing fc.bias [10]", e.Message);
        Assert.Contains("unexpected head.bias [10]", e.Message);
        Assert.Contains(file, e.Message);
        AssertUnchanged(before, model);
    }

    public static TheoryData<string, string> ImpossibleContents => new()
    {
        { "nan-weight", "conv1.weight: NaN at index 3 of 36 (the run that wrote it diverged)" },
        { "infinite-bias", "fc.bias: -Infinity at index 9 of 10 (the run that wrote it diverged)" },
        { "negative-variance", "bn1.running_var: -0.5 at index 2 of 4, but a variance is never negative" },
        { "i32-weights", "fc.bias: dtype I32, but weights and statistics are floats (F32 or F64)" },
        { "float-counter", "bn1.num_batches_tracked: dtype F64, but a counter is an integer (I64 or I32)" },
        { "negative-counter", "bn1.num_batches_tracked: -3, but a counter counts up from 0" },
    };

    /// <summary>A file PyTorch would load but no trained model holds: refused with the tensor, index and why.</summary>
    [Theory]
    [MemberData(nameof(ImpossibleContents))]
    public void ImpossibleValuesAndDtypesAreRefusedAndChangeNothing(string kind, string expectedMessage)
    {
        var source = Model().FillDistinct();
        var state = source.state_dict().ToDictionary(s => s.Name, s => s.Tensor);
        if (kind == "nan-weight") state["conv1.weight"].Data[3] = float.NaN;
        if (kind == "infinite-bias") state["fc.bias"].Data[9] = float.NegativeInfinity;
        if (kind == "negative-variance") state["bn1.running_var"].Data[2] = -0.5f;
        if (kind == "negative-counter") state["bn1.num_batches_tracked"].Data[0] = -3f;
        string file = PathOf(kind + ".safetensors");
        Safetensors.Save(source, file);
        if (kind is "i32-weights" or "float-counter")   // same byte sizes: only the header's dtype changes
        {
            byte[] bytes = File.ReadAllBytes(file);
            string text = Encoding.Latin1.GetString(bytes);
            string edited = kind == "i32-weights"
                ? text.Replace("\"fc.bias\":{\"dtype\":\"F32\"", "\"fc.bias\":{\"dtype\":\"I32\"", StringComparison.Ordinal)
                : text.Replace("\"dtype\":\"I64\"", "\"dtype\":\"F64\"", StringComparison.Ordinal);
            Assert.NotEqual(text, edited);
            File.WriteAllBytes(file, Encoding.Latin1.GetBytes(edited));
        }
        var model = Model();
        var before = Snapshot(model);
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Load(model, file));
        Assert.Contains(expectedMessage, e.Message);
        Assert.StartsWith(file, e.Message);
        AssertUnchanged(before, model);
    }

    public static TheoryData<string, string> Corruptions => new()
    {
        { "truncated", "truncated" },
        { "short", "fewer than the 8-byte header length" },
        { "huge-header", "header length" },
        { "bad-json", "not valid JSON" },
        { "unknown-dtype", "unknown dtype 'F99'" },
        { "overlap", "overlaps" },
        { "wrong-size", "needs" },
        { "negative-shape", "invalid shape" },
        { "string-offsets", "invalid data_offsets" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void CorruptFilesAreRejectedAndChangeNothing(string kind, string expectedMessage)
    {
        string good = PathOf("good.safetensors");
        Safetensors.Save(Model().FillDistinct(), good);
        byte[] bytes = File.ReadAllBytes(good);
        int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, n);
        byte[] WithHeader(string h)
        {
            byte[] hb = Encoding.UTF8.GetBytes(h);
            var result = new byte[8 + hb.Length + bytes.Length - 8 - n];
            BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)hb.Length);
            hb.CopyTo(result, 8);
            bytes.AsSpan(8 + n).CopyTo(result.AsSpan(8 + hb.Length));
            return result;
        }
        byte[] corrupt = kind switch
        {
            "truncated" => bytes[..^10],
            "short" => bytes[..5],
            "huge-header" => [.. BitConverter.GetBytes(1L << 40), .. bytes[8..]],
            "bad-json" => WithHeader(header.Replace("\"dtype\"", "dtype", StringComparison.Ordinal)),
            "unknown-dtype" => WithHeader(header.Replace("\"I64\"", "\"F99\"", StringComparison.Ordinal)),
            "overlap" => WithHeader(header.Replace("\"data_offsets\":[144,160]", "\"data_offsets\":[140,156]", StringComparison.Ordinal)),
            "wrong-size" => WithHeader(header.Replace("\"shape\":[4,1,3,3]", "\"shape\":[4,1,3,4]", StringComparison.Ordinal)),
            "negative-shape" => WithHeader(header.Replace("\"shape\":[4,1,3,3]", "\"shape\":[4,-1,3,3]", StringComparison.Ordinal)),
            "string-offsets" => WithHeader(header.Replace("\"data_offsets\":[144,160]", "\"data_offsets\":[\"144\",\"160\"]", StringComparison.Ordinal)),
            _ => throw new ArgumentException(kind),
        };
        Assert.NotEqual(bytes, corrupt);
        string file = PathOf(kind + ".safetensors");
        File.WriteAllBytes(file, corrupt);
        var model = Model();
        var before = Snapshot(model);
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Load(model, file));
        Assert.Contains(expectedMessage, e.Message);
        Assert.StartsWith(file, e.Message);
        AssertUnchanged(before, model);
    }

    [Fact]
    public void TrainedReferenceNetRoundTripsToTheSameOutputs()
    {
        torch.manual_seed(11);
        var net = ModelZoo.Create("reference");
        var x = new Tensor<float>(4, 1, 28, 28);
        for (int i = 0; i < x.Numel; i++) x.Data[i] = MathF.Sin(0.1f * i);
        var opt = new SGD<float>(net.parameters(), lr: 0.1, momentum: 0.9);
        for (int step = 0; step < 3; step++)
        {
            opt.zero_grad();
            net.Backward(F.nll_loss(net.Forward(x), [1, 2, 3, 4]).Grad);
            opt.step();
        }
        string file = PathOf("ref.safetensors");
        Safetensors.Save(net, file);
        torch.manual_seed(12);
        var fresh = ModelZoo.Create("reference");
        Safetensors.Load(fresh, file);
        net.eval();
        fresh.eval();
        Assert.Equal(net.Forward(x).Data, fresh.Forward(x).Data);
        Assert.Equal(3f, fresh.NamedBuffers().Single(b => b.Name == "f.0.1.num_batches_tracked").Buffer.Data.Single());
        // A checkpoint of another architecture is refused, naming what differs.
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Load(Model(), file));
        Assert.Contains("unexpected f.0.0.weight [8, 1, 3, 3]", e.Message);
        Assert.Contains("missing conv1.weight [4, 1, 3, 3]", e.Message);
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Load(Model(), PathOf("nope.safetensors")));
        Assert.Contains("cannot read the checkpoint", e.Message);
    }

    [Fact]
    public void FailedSaveKeepsThePreviousFile()
    {
        string file = PathOf("keep.safetensors");
        Safetensors.Save(Model().FillDistinct(), file);
        byte[] before = File.ReadAllBytes(file);
        var dup = new StateDictModule<float>([("w", [2], false), ("w", [2], false)]);
        Assert.Throws<ArgumentException>(() => Safetensors.Save(dup, file));
        Assert.Equal(before, File.ReadAllBytes(file));
    }
}
