using System.Diagnostics;
using System.Net.Sockets;
using Era.IO;

namespace Era.Tests.IO;

/// <summary>
/// <see cref="AtomicFile"/> never renames over what is not a regular file: a device or FIFO is written to directly,
/// a symbolic link is followed, a socket or block device is refused; a target name of any legal length works.
/// Devices are made with mknod in a temporary folder, never on the real /dev.
/// </summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string In(string name) => Path.Combine(_dir, name);

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>mknod NAME TYPE MAJOR MINOR in the temporary folder (root only).</summary>
    internal static void Mknod(string path, char type, int major, int minor)
    {
        using var p = Process.Start(new ProcessStartInfo("mknod", [path, type.ToString(), major.ToString(), minor.ToString()]) { RedirectStandardError = true })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"mknod {path}: {err}");
    }

    /// <summary>A character device like /dev/null: made here as root; a user cannot rename over the real one, so a
    /// user's test writes to /dev/null itself.</summary>
    internal string NullDevice()
    {
        if (!IsRoot) return "/dev/null";
        string node = In("null");
        Mknod(node, 'c', 1, 3);
        return node;
    }

    [Fact]
    public void ACharacterDeviceIsWrittenToAndStaysADevice()
    {
        string node = NullDevice();
        AtomicFile.WriteAllText(node, "{\"x\": 1}");
        Assert.Equal(EntryKind.CharacterDevice, FileEntry.Kind(node));
        Assert.Empty(File.ReadAllBytes(node));   // still the null device, not a file holding the text
        if (IsRoot) Assert.Equal(["null"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void AFifoIsWrittenToAndStaysAFifo()
    {
        string fifo = In("pipe");
        using (var p = Process.Start("mkfifo", [fifo])) p.WaitForExit();
        string? read = null;
        var reader = new Thread(() => read = File.ReadAllText(fifo)) { IsBackground = true };
        reader.Start();
        AtomicFile.WriteAllText(fifo, "through the pipe");
        Assert.Equal(EntryKind.Fifo, FileEntry.Kind(fifo));   // checked before joining: a replaced FIFO leaves the reader blocked
        reader.Join();
        Assert.Equal("through the pipe", read);
    }

    [Fact]
    public void ASymbolicLinkIsFollowedAndStaysALink()
    {
        File.WriteAllText(In("real.json"), "old");
        File.CreateSymbolicLink(In("link.json"), "real.json");
        File.CreateSymbolicLink(In("dangling.json"), "later.json");
        AtomicFile.WriteAllText(In("link.json"), "new");
        AtomicFile.WriteAllText(In("dangling.json"), "created");
        Assert.Equal(EntryKind.SymbolicLink, FileEntry.Kind(In("link.json")));
        Assert.Equal("new", File.ReadAllText(In("real.json")));
        Assert.Equal(EntryKind.SymbolicLink, FileEntry.Kind(In("dangling.json")));
        Assert.Equal("created", File.ReadAllText(In("later.json")));
    }

    [Fact]
    public void ASocketIsRefusedAndKept()
    {
        string path = In("socket");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var e = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(path, "x"));
        Assert.Equal($"'{path}' is a socket, not a regular file; refusing to replace it", e.Message);
        Assert.Equal(e.Message, Assert.Throws<IOException>(() => AtomicFile.Check(path)).Message);
        Assert.Equal(EntryKind.Socket, FileEntry.Kind(path));
        Assert.Single(Directory.GetFileSystemEntries(_dir));   // no temporary file left
    }

    [Fact]
    public void ABlockDeviceIsRefusedAndKept()
    {
        if (!IsRoot) return;   // mknod needs root; the socket test covers refusal for a user
        string node = In("loop");
        Mknod(node, 'b', 7, 0);
        var e = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(node, "x"));
        Assert.Contains("is a block device", e.Message);
        Assert.Equal(EntryKind.BlockDevice, FileEntry.Kind(node));
    }

    [Fact]
    public void ALongLegalNameIsWrittenAndATooLongOneIsRefusedByTheCheck()
    {
        string legal = In(new string('a', 232) + ".safetensors");   // 244 bytes: legal, but not with a long suffix
        AtomicFile.Check(legal);
        AtomicFile.WriteAllText(legal, "weights");
        Assert.Equal("weights", File.ReadAllText(legal));
        Assert.Single(Directory.GetFileSystemEntries(_dir));

        string multibyte = In(string.Concat(Enumerable.Repeat("é", 120)) + ".json");   // 245 bytes in UTF-8
        AtomicFile.WriteAllText(multibyte, "ok");
        Assert.Equal("ok", File.ReadAllText(multibyte));

        string tooLong = In(new string('b', 251) + ".json");
        var e = Assert.Throws<IOException>(() => AtomicFile.Check(tooLong));
        Assert.Equal("the file name is 256 bytes long; the file system takes at most 255", e.Message);
    }
}
