using System.Runtime.InteropServices;

namespace Era.IO;

/// <summary>What a directory entry is, as lstat(2) says: the link itself, not what it points at.</summary>
public enum EntryKind
{
    Missing,
    Regular,
    Directory,
    SymbolicLink,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
}

/// <summary>
/// The kind of a file system entry, which .NET does not expose: a device, a FIFO and a regular file all look alike
/// to <see cref="FileInfo"/>. On Linux through statx(2), whose buffer has one layout on every architecture; elsewhere
/// only links, folders and files are told apart.
/// </summary>
public static partial class FileEntry
{
    public static EntryKind Kind(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsLinux()) return LinuxKind(path);
        var info = new FileInfo(path);
        if (info.LinkTarget is not null) return EntryKind.SymbolicLink;
        if (System.IO.Directory.Exists(path)) return EntryKind.Directory;
        return info.Exists ? EntryKind.Regular : EntryKind.Missing;
    }

    /// <summary>The full path <paramref name="path"/> leads to (a symbolic link's final target) and what is there.</summary>
    public static string Resolve(string path, out EntryKind kind)
    {
        string full = Path.GetFullPath(path);
        kind = Kind(full);
        if (kind != EntryKind.SymbolicLink) return full;
        full = File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
        kind = Kind(full);
        return full;
    }

    /// <summary>
    /// Opens a regular file (through links) for reading; anything else — a FIFO, which would block, a device such as
    /// /dev/zero, which never ends — is an <see cref="IOException"/> with one line, before it is opened.
    /// </summary>
    public static FileStream OpenRegular(string path)
    {
        string full = Resolve(path, out EntryKind kind);
        if (kind is not (EntryKind.Regular or EntryKind.Missing))
            throw new IOException($"'{path}' is {Describe(kind)}, not a regular file");
        return File.OpenRead(full);
    }

    /// <summary>"a character device", "a FIFO (named pipe)", …: for messages.</summary>
    public static string Describe(EntryKind kind) => kind switch
    {
        EntryKind.Missing => "missing",
        EntryKind.Regular => "a regular file",
        EntryKind.Directory => "a directory",
        EntryKind.SymbolicLink => "a symbolic link",
        EntryKind.CharacterDevice => "a character device",
        EntryKind.BlockDevice => "a block device",
        EntryKind.Fifo => "a FIFO (named pipe)",
        _ => "a socket",
    };

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int StxModeOffset = 28; // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid, u16 mode
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;

    private static unsafe EntryKind LinuxKind(string path)
    {
        byte* buffer = stackalloc byte[256]; // sizeof(struct statx)
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is ENOENT or ENOTDIR) return EntryKind.Missing;
            throw new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        int mode = *(ushort*)(buffer + StxModeOffset);
        return (mode & 0xF000) switch
        {
            0x8000 => EntryKind.Regular,
            0x4000 => EntryKind.Directory,
            0xA000 => EntryKind.SymbolicLink,
            0x2000 => EntryKind.CharacterDevice,
            0x6000 => EntryKind.BlockDevice,
            0x1000 => EntryKind.Fifo,
            _ => EntryKind.Socket,
        };
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
