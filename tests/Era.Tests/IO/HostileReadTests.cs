using System.Buffers.Binary;
using System.Diagnostics;
using Era.Data;
using Era.Engine.Checkpoints;

namespace Era.Tests.IO;

/// <summary>
/// The safetensors and IDX readers on input that is not a file of theirs: a FIFO (which would block) or a device
/// (which never ends) is one line before it is opened, a huge sparse file with a bad header length is refused after
/// 8 bytes, a tensor name that is not UTF-8 is one line, not a crash.
/// </summary>
public sealed class HostileReadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-read-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Fifo()
    {
        string fifo = Path.Combine(_dir, "pipe");
        using (var p = Process.Start("mkfifo", [fifo])) p.WaitForExit();
        return fifo;
    }

    /// <summary>Runs a read that must not block; the guard only turns a regression's hang (a reader waiting on a FIFO
    /// no one writes) into a failure.</summary>
    private static Exception ThrowsWithoutBlocking(Action read)
    {
        var task = Task.Run(read);
        Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromMinutes(2)), "the reader blocked on the FIFO");
        Assert.True(task.IsFaulted, "no exception");
        return Assert.Single(task.Exception!.InnerExceptions);
    }

    [Fact]
    public void AFifoAsWeightsIsOneLine()
    {
        string fifo = Fifo();
        var e = Assert.IsType<CheckpointException>(ThrowsWithoutBlocking(() => Safetensors.Read(fifo)));
        Assert.Equal($"{fifo}: cannot read the checkpoint: '{fifo}' is a FIFO (named pipe), not a regular file", e.Message);
    }

    [Fact]
    public void AFifoAsAnMnistFileIsOneLine()
    {
        string fifo = Fifo();
        var e = Assert.IsType<DataFormatException>(ThrowsWithoutBlocking(() => Idx.Read(fifo)));
        Assert.Equal($"{fifo}: cannot read: '{fifo}' is a FIFO (named pipe), not a regular file", e.Message);
    }

    [Fact]
    public void ADeviceAsWeightsIsRefusedBeforeReading()
    {
        string zero = "/dev/zero";   // only read, never written
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Read(zero));
        Assert.Equal("/dev/zero: cannot read the checkpoint: '/dev/zero' is a character device, not a regular file", e.Message);
        File.CreateSymbolicLink(Path.Combine(_dir, "weights.safetensors"), zero);
        e = Assert.Throws<CheckpointException>(() => Safetensors.Read(Path.Combine(_dir, "weights.safetensors")));
        Assert.Contains("is a character device, not a regular file", e.Message);
    }

    [Fact]
    public void AHugeSparseFileWithAZeroHeaderLengthIsRefusedAfterEightBytes()
    {
        string sparse = Path.Combine(_dir, "sparse.safetensors");
        using (var f = File.Create(sparse)) f.SetLength(256L << 20);   // 256 MB of zeros, no disk blocks
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Read(sparse));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal($"{sparse}: not a valid safetensors file: header length 0 does not fit a file of {256L << 20} bytes (truncated or not safetensors?)", e.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes to refuse it");
    }

    [Theory]
    [InlineData(new byte[] { 0xff, 0xfe }, "the header is not valid UTF-8")]
    [InlineData(new byte[] { (byte)'\\', (byte)'u', (byte)'d', (byte)'8', (byte)'0', (byte)'0' }, "not valid Unicode")]
    public void ATensorNameThatIsNotUnicodeIsOneLine(byte[] badName, string message)
    {
        byte[] header = [.. "{\""u8, .. badName, .. "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"u8];
        var file = new byte[8 + header.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        string path = Path.Combine(_dir, "names.safetensors");
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Read(path));
        Assert.StartsWith($"{path}: not a valid safetensors file: ", e.Message);
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
