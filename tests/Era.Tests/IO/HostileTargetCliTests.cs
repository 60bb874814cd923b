using System.Net.Sockets;
using Era.IO;
using Era.Tests.Data;
using Era.Tests.Engine;

namespace Era.Tests.IO;

/// <summary>`era train` with outputs that are not plain files in a plain folder: a device keeps being a device, a
/// 244-byte name (legal) gets its weights, a socket or a 256-byte name is refused before training.</summary>
[Collection(EngineCollection.Name)]
public sealed class HostileTargetCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-hostile-").FullName;

    public HostileTargetCliTests()
    {
        IdxFiles.WriteMnist(Path.Combine(_dir, "mnist"), "train", 24, gzip: false);
        IdxFiles.WriteMnist(Path.Combine(_dir, "mnist"), "t10k", 8, gzip: false);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Train(params string[] args) =>
        Era.Tests.Cli.CliRunner.Run(["train", "--data", Path.Combine(_dir, "mnist"), "--epochs", "1", "--batch-size", "8", "--threads", "1", .. args]);

    [Fact]
    public void JsonToADeviceAndWeightsUnderALongNameAreBothWritten()
    {
        string device = Environment.UserName == "root" ? Path.Combine(_dir, "null") : "/dev/null";
        if (device != "/dev/null") AtomicFileTests.Mknod(device, 'c', 1, 3);
        string weights = Path.Combine(_dir, new string('w', 232) + ".safetensors");
        var (code, _, error) = Train("--json", device, "--out", weights);
        Assert.True(code == 0, error);
        Assert.Equal(EntryKind.CharacterDevice, FileEntry.Kind(device));
        Assert.True(new FileInfo(weights).Length > 0);
    }

    [Fact]
    public void ASocketOrATooLongNameIsRefusedBeforeTraining()
    {
        string socketPath = Path.Combine(_dir, "s");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        var (code, output, error) = Train("--json", socketPath);
        Assert.Equal(2, code);
        Assert.Equal($"era: --json: '{socketPath}' is a socket, not a regular file; refusing to replace it", error.Trim());
        Assert.Equal("", output);

        (code, output, error) = Train("--out", Path.Combine(_dir, new string('w', 244) + ".safetensors"));
        Assert.Equal(2, code);
        Assert.Equal("era: --out: the file name is 256 bytes long; the file system takes at most 255", error.Trim());
        Assert.Equal("", output);
    }
}
