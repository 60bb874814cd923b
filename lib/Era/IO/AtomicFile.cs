using System.Text;

namespace Era.IO;

/// <summary>
/// Writes a file so that readers see either the old file or the complete new one, never half of it:
/// write to a temporary file beside the target, flush it to disk, then rename over the target.
/// If writing fails, the temporary file is deleted and the target is untouched.
/// Only a regular file (or nothing) is ever renamed over: a symbolic link is followed and its target written;
/// a character device or a FIFO (`/dev/null`, `/dev/stdout`, a pipe) is written to directly, as the user means;
/// a block device, socket or directory is refused.
/// </summary>
public static class AtomicFile
{
    /// <summary>The longest file name (in UTF-8 bytes) Linux's file systems take (NAME_MAX).</summary>
    public const int MaxNameBytes = 255;

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = Target(path, out EntryKind kind);
        if (kind is EntryKind.CharacterDevice or EntryKind.Fifo)
        {
            using var device = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            write(device);
            return;
        }
        string dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, TempName(Path.GetFileName(full)));
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true); w.Write(text); });

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>
    /// Checks, before long work, that <see cref="Write"/> will be able to write <paramref name="path"/>: a file name
    /// the file system takes, an existing folder in which a file can be created (or a device or FIFO, written
    /// directly), not a directory, block device or socket. Throws <see cref="IOException"/> with one line.
    /// </summary>
    public static void Check(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || Directory.Exists(path)) throw new IOException($"'{path}' is not a file name");
        int nameBytes = Encoding.UTF8.GetByteCount(Path.GetFileName(path));
        if (nameBytes > MaxNameBytes)
            throw new IOException($"the file name is {nameBytes} bytes long; the file system takes at most {MaxNameBytes}");
        string full = Target(path, out EntryKind kind);
        if (kind is EntryKind.CharacterDevice or EntryKind.Fifo) return;
        string folder = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(folder)) throw new IOException($"directory '{folder}' does not exist");
        try
        {
            string probe = Path.Combine(folder, TempName("probe"));
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write in '{folder}': {e.Message}", e);
        }
    }

    /// <summary>The full path to write (a symbolic link's final target) and what is there now; throws for what is
    /// never replaced.</summary>
    private static string Target(string path, out EntryKind kind)
    {
        string full = FileEntry.Resolve(path, out kind);
        if (kind is EntryKind.Directory or EntryKind.BlockDevice or EntryKind.Socket or EntryKind.SymbolicLink)
            throw new IOException($"'{path}' is {FileEntry.Describe(kind)}, not a regular file; refusing to replace it");
        return full;
    }

    /// <summary>A hidden name beside the target, short enough for any target name: at most 40 characters of it.</summary>
    private static string TempName(string name)
    {
        int keep = Math.Min(name.Length, 40);
        if (keep < name.Length && char.IsHighSurrogate(name[keep - 1])) keep--;
        return $".{name[..keep]}.{Guid.NewGuid():N}.tmp";
    }
}
