using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Era.IO;

namespace Era.Torch;

/// <summary>TorchSharp's native libraries cannot be found or loaded; the message says what is missing, on one line.</summary>
public sealed class TorchNativeException(string message) : Exception(message);

/// <summary>What <see cref="TorchNative.EnsureLoaded"/> did.</summary>
/// <param name="Patched">true when the shim was loaded from a patched copy (the system libstdc++ lacks GLIBCXX_3.4.32).</param>
/// <param name="Shim">the libLibTorchSharp.so that was loaded (the package's own, or the patched copy); null when nothing was needed.</param>
/// <param name="Libtorch">the folder of libtorch's libraries that were loaded; null when nothing was needed.</param>
/// <param name="Reason">one line: why it did what it did (the loader, then the convolution probe's verdict).</param>
/// <param name="Convolutions">the convolution probe's verdict (<see cref="ConvolutionProbe"/>): the ONEDNN_MAX_CPU_ISA set, and why; null where no probe ran.</param>
public sealed record TorchNativeInfo(bool Patched, string? Shim, string? Libtorch, string Reason, ProbeVerdict? Convolutions = null);

/// <summary>
/// Loads TorchSharp's native libraries before the first torch call, working around one known problem:
/// TorchSharp 0.107's shim libLibTorchSharp.so is built with GCC 13 and requires the symbol version GLIBCXX_3.4.32
/// of libstdc++. Ubuntu 24.04 has it; Debian 12 stops at GLIBCXX_3.4.30, so the dynamic loader refuses the shim and
/// TorchSharp reports, misleadingly, that the libtorch package is missing (after copying ~480 MB of libraries).
/// The only symbol that needs that version is std::ios_base_library_init, which no relocation uses. So, only when
/// the system libstdc++ lacks the version:
/// <list type="number">
///   <item>copy the shim into a cache folder (the NuGet cache and the package are never touched);</item>
///   <item>in the copy's ELF section .gnu.version_r, set VER_FLG_WEAK (0x2) in the flags of the entry (vernaux)
///     that requires GLIBCXX_3.4.32: a weak version requirement that is missing is not an error for the loader;</item>
///   <item>check that the copy differs from the original in that flag's two bytes and nowhere else;</item>
///   <item>load libtorch's libraries and the copy with NativeLibrary.Load, and resolve TorchSharp's P/Invokes
///     ("LibTorchSharp", "torch_cpu") to them.</item>
/// </list>
/// Where the system libstdc++ has the version, or the OS is not Linux x64, it does nothing and TorchSharp loads
/// its libraries itself. ELF64 layouts used here (little-endian, from elf.h):
/// <code>
///   Elf64_Ehdr  e_shoff @0x28 (u64)   e_shentsize @0x3A, e_shnum @0x3C, e_shstrndx @0x3E (u16)
///   Elf64_Shdr  sh_name @0 (u32) sh_type @4 (u32) sh_offset @24 (u64) sh_size @32 (u64) sh_link @40 sh_info @44 (u32)
///   Elf64_Verneed  vn_version @0 (u16) vn_cnt @2 (u16) vn_file @4 vn_aux @8 vn_next @12 (u32)    one per library
///   Elf64_Vernaux  vna_hash @0 (u32) vna_flags @4 (u16) vna_other @6 (u16) vna_name @8 vna_next @12 (u32)
///   Elf64_Verdef   vd_version @0 vd_flags @2 vd_ndx @4 vd_cnt @6 (u16) vd_hash @8 vd_aux @12 vd_next @16 (u32)
///   Elf64_Verdaux  vda_name @0 vda_next @4 (u32)
/// </code>
/// </summary>
public static class TorchNative
{
    /// <summary>The libstdc++ symbol version TorchSharp 0.107's shim asks for.</summary>
    public const string RequiredVersion = "GLIBCXX_3.4.32";

    /// <summary>VER_FLG_WEAK: a weak version reference, not fatal when the library lacks it.</summary>
    public const ushort VerFlagWeak = 0x2;

    private const string ShimFile = "libLibTorchSharp.so";
    private const uint ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe;

    private static readonly object Gate = new();
    private static TorchNativeInfo? _loaded;
    private static readonly Dictionary<string, IntPtr> Handles = new(StringComparer.Ordinal);

    /// <summary>
    /// Makes TorchSharp loadable; call it once before the first torch call (calling again does nothing). Throws
    /// <see cref="TorchNativeException"/> with one line naming what is missing.
    /// </summary>
    /// <param name="cacheDir">where the patched copy goes (default: $XDG_CACHE_HOME/era/torchsharp, else ~/.cache/era/torchsharp).</param>
    public static TorchNativeInfo EnsureLoaded(string? cacheDir = null)
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
                return _loaded = new TorchNativeInfo(false, null, null, "not Linux x64: TorchSharp loads its own libraries");
            // libtorch's OpenMP threads spin while they wait by default. Where the cores are shared (a Codespace, a
            // notebook beside an editor, CI) spinning threads steal them from the ones with work: measured on the
            // 2-core course machine under load, 3.4-3.9 s a batch spinning, 0.7 s passive. Set before libgomp starts,
            // unless the user chose a policy (overwrite = 0); .NET's SetEnvironmentVariable would not reach libgomp.
            _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);

            string libstdcxx = LoadedLibraryPath("libstdc++.so.6")
                ?? throw new TorchNativeException("TorchSharp needs libstdc++.so.6, which is not installed (apt-get install libstdc++6)");
            cacheDir ??= DefaultCacheDir();
            var info = Prepare(libstdcxx, cacheDir);
            // Before libtorch starts: oneDNN reads ONEDNN_MAX_CPU_ISA once, at its first convolution. The probe's own
            // child processes load libtorch without probing again.
            if (NativeEnvironmentVariable(ConvolutionProbe.SwitchVariable) == "off")
                info = info with { Reason = $"{info.Reason}; convolutions not probed ({ConvolutionProbe.SwitchVariable}=off)" };
            else if (NativeEnvironmentVariable(ConvolutionProbe.ChildVariable) != "1")
            {
                var verdict = ProbeConvolutions(info, cacheDir);
                if (verdict.Limit is not null && !verdict.UserSet) _ = SetEnv(ConvolutionProbe.IsaVariable, verdict.Limit, 1);
                info = info with { Reason = $"{info.Reason}; {verdict.Reason}", Convolutions = verdict };
            }
            if (info.Patched)
            {
                // libtorch first, so that the copy's DT_NEEDED (libtorch.so, libc10.so, libtorch_cpu.so) are found loaded.
                foreach (string lib in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
                    Load(lib, Path.Combine(info.Libtorch!, lib));
                Load(ShimFile, info.Shim!);
                NativeLibrary.SetDllImportResolver(typeof(TorchSharp.torch).Assembly, Resolve);
            }
            return _loaded = info;
        }
    }

    /// <summary>
    /// The decision and the file work of <see cref="EnsureLoaded"/>, without loading anything: if
    /// <paramref name="libstdcxx"/> defines <see cref="RequiredVersion"/>, nothing (Patched false, no file written);
    /// otherwise finds the shim (or takes <paramref name="shim"/>) and libtorch, and makes the checked, patched copy
    /// of the shim under <paramref name="cacheDir"/>.
    /// </summary>
    public static TorchNativeInfo Prepare(string libstdcxx, string cacheDir, string? shim = null)
    {
        if (DefinesVersion(libstdcxx, RequiredVersion))
            return new TorchNativeInfo(false, null, null, $"{libstdcxx} has {RequiredVersion}: no patch needed");
        shim ??= FindShim();
        string libtorch = FindLibtorch(Path.GetDirectoryName(Path.GetFullPath(shim))!);
        string copy = Path.Combine(cacheDir, Hash(shim), ShimFile);
        PatchedCopy(shim, copy);
        return new TorchNativeInfo(true, copy, libtorch, $"{libstdcxx} lacks {RequiredVersion}: loaded a copy of {shim} with that requirement marked weak");
    }

    /// <summary>The convolution probe's verdict for this CPU and libtorch: from the cache, else from child processes (<see cref="ConvolutionProbe"/>).</summary>
    private static ProbeVerdict ProbeConvolutions(TorchNativeInfo info, string cacheDir)
    {
        string? libtorch = info.Libtorch;
        if (libtorch is null)
        {
            try { libtorch = FindLibtorch(Path.GetDirectoryName(Path.GetFullPath(FindShim()))!); }
            catch (TorchNativeException) { libtorch = ""; } // TorchSharp finds its own; the key still names TorchSharp's version
        }
        string? user = NativeEnvironmentVariable(ConvolutionProbe.IsaVariable) is { Length: > 0 } isa ? isa : NativeEnvironmentVariable("DNNL_MAX_CPU_ISA");
        string key = ConvolutionProbe.CacheKey(Path.Combine(libtorch, "libtorch_cpu.so"));
        return ConvolutionProbe.Cached(cacheDir, key, user, ConvolutionProbe.Ladder(), limit => ConvolutionProbe.RunChild(limit));
    }

    [DllImport("libc.so.6", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc.so.6", EntryPoint = "getenv")]
    private static extern IntPtr GetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    /// <summary>A variable of the process's native environment (what libtorch and libgomp see), or null.</summary>
    public static string? NativeEnvironmentVariable(string name) => OperatingSystem.IsLinux() ? Marshal.PtrToStringUTF8(GetEnv(name)) : Environment.GetEnvironmentVariable(name);

    private static void Load(string name, string path)
    {
        try
        {
            Handles[name] = NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            throw new TorchNativeException($"cannot load {path}: {FirstLine(e.Message)}");
        }
    }

    /// <summary>TorchSharp's DllImport("LibTorchSharp") and its probe of "torch_cpu" get the libraries loaded above.</summary>
    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) => name switch
    {
        "LibTorchSharp" or "libLibTorchSharp" or ShimFile => Handles[ShimFile],
        "torch_cpu" or "libtorch_cpu" or "libtorch_cpu.so" => Handles["libtorch_cpu.so"],
        _ => IntPtr.Zero,
    };

    /// <summary>$XDG_CACHE_HOME/era/torchsharp, else ~/.cache/era/torchsharp.</summary>
    internal static string DefaultCacheDir()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "era", "torchsharp");
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))[..16].ToLowerInvariant();

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();

    // ---- Finding the libraries -------------------------------------------------------------------------------

    /// <summary>Folders where a build, a test run or a notebook puts native libraries, most specific first.</summary>
    private static IEnumerable<string> NativeFolders()
    {
        var roots = new List<string>();
        string? torchsharp = Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location);
        if (!string.IsNullOrEmpty(torchsharp)) roots.Add(torchsharp);
        roots.Add(AppContext.BaseDirectory);
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string dirs)
            roots.AddRange(dirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        foreach (string root in roots)
        {
            yield return root;
            yield return Path.Combine(root, "runtimes", "linux-x64", "native");
        }
        // A package folder: .../torchsharp/0.107.0/lib/net8.0/TorchSharp.dll → .../torchsharp/0.107.0/runtimes/linux-x64/native.
        if (!string.IsNullOrEmpty(torchsharp)) yield return Path.GetFullPath(Path.Combine(torchsharp, "..", "..", "runtimes", "linux-x64", "native"));
    }

    private static string FindShim() =>
        NativeFolders().Select(d => Path.Combine(d, ShimFile)).FirstOrDefault(File.Exists)
        ?? throw new TorchNativeException($"TorchSharp's {ShimFile} was not found beside TorchSharp.dll or the application (is the TorchSharp package restored for linux-x64?)");

    /// <summary>libtorch's folder: beside the shim (a build's output), in the other native folders, or in the NuGet cache.</summary>
    private static string FindLibtorch(string shimFolder)
    {
        var candidates = new List<string> { shimFolder };
        candidates.AddRange(NativeFolders());
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string cpu = Path.Combine(packages, "libtorch-cpu-linux-x64");
        if (Directory.Exists(cpu))
            candidates.AddRange(Directory.GetDirectories(cpu).Order(StringComparer.Ordinal).Reverse().Select(v => Path.Combine(v, "runtimes", "linux-x64", "native")));
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "libtorch_cpu.so")) && File.Exists(Path.Combine(d, "libtorch.so")))
            ?? throw new TorchNativeException("libtorch (libtorch_cpu.so) was not found: reference the package libtorch-cpu-linux-x64 2.10.0 (restored for linux-x64)");
    }

    /// <summary>Loads a library by name as the dynamic loader would and returns its file, from /proc/self/maps; null if absent.</summary>
    private static string? LoadedLibraryPath(string name)
    {
        if (!NativeLibrary.TryLoad(name, out _)) return null;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0 && Path.GetFileName(line[slash..]).StartsWith(name, StringComparison.Ordinal)) return line[slash..].Trim();
        }
        return null;
    }

    // ---- The patch ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Makes (or checks) <paramref name="copy"/>: <paramref name="original"/> with <see cref="RequiredVersion"/>'s
    /// requirement marked weak, written atomically. An existing copy is checked again and rewritten if it is not exactly that.
    /// </summary>
    public static void PatchedCopy(string original, string copy)
    {
        byte[] source = ReadElf(original);
        byte[] patched = MarkVersionWeak(source, RequiredVersion, out int flagsOffset);
        VerifyOnlyFlagChanged(source, patched, flagsOffset, RequiredVersion);
        if (File.Exists(copy) && File.ReadAllBytes(copy).AsSpan().SequenceEqual(patched)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(copy))!);
        AtomicFile.Write(copy, stream => stream.Write(patched));
        if (!File.ReadAllBytes(copy).AsSpan().SequenceEqual(patched)) throw new TorchNativeException($"{copy}: the patched copy did not read back as written");
    }

    /// <summary>
    /// A copy of the ELF image with VER_FLG_WEAK set on every requirement (vernaux) of <paramref name="version"/>;
    /// <paramref name="flagsOffset"/> is the file offset of the (last) vna_flags changed. Throws if nothing requires it.
    /// </summary>
    public static byte[] MarkVersionWeak(byte[] elf, string version, out int flagsOffset)
    {
        ArgumentNullException.ThrowIfNull(elf);
        var patched = (byte[])elf.Clone();
        flagsOffset = -1;
        foreach (var need in VersionNeeds(elf))
        {
            if (need.Version != version) continue;
            int at = need.Offset + 4; // vna_flags
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(patched.AsSpan(at));
            BinaryPrimitives.WriteUInt16LittleEndian(patched.AsSpan(at), (ushort)(flags | VerFlagWeak));
            flagsOffset = at;
        }
        if (flagsOffset < 0) throw new TorchNativeException($"the ELF file has no requirement of {version} in .gnu.version_r (not the expected libLibTorchSharp.so?)");
        return patched;
    }

    /// <summary>
    /// Checks that <paramref name="patched"/> differs from <paramref name="original"/> only in the two bytes of
    /// vna_flags at <paramref name="flagsOffset"/>, by the weak bit alone, and that re-reading it shows that
    /// requirement weak and every other requirement unchanged.
    /// </summary>
    public static void VerifyOnlyFlagChanged(byte[] original, byte[] patched, int flagsOffset, string version)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(patched);
        if (original.Length != patched.Length) throw new TorchNativeException($"patch check: sizes differ ({original.Length} and {patched.Length} bytes)");
        for (int i = 0; i < original.Length; i++)
            if (original[i] != patched[i] && (i < flagsOffset || i >= flagsOffset + 2))
                throw new TorchNativeException($"patch check: byte 0x{i:x} changed, outside the vna_flags of {version} at 0x{flagsOffset:x}");
        ushort before = BinaryPrimitives.ReadUInt16LittleEndian(original.AsSpan(flagsOffset));
        ushort after = BinaryPrimitives.ReadUInt16LittleEndian(patched.AsSpan(flagsOffset));
        if (after != (before | VerFlagWeak)) throw new TorchNativeException($"patch check: flags 0x{before:x} became 0x{after:x}, not 0x{before | VerFlagWeak:x}");
        var a = VersionNeeds(original);
        var b = VersionNeeds(patched);
        for (int i = 0; i < a.Count; i++)
        {
            bool target = a[i].Version == version;
            if (a[i].Version != b[i].Version || a[i].File != b[i].File || (target ? (b[i].Flags & VerFlagWeak) == 0 : a[i].Flags != b[i].Flags))
                throw new TorchNativeException($"patch check: requirement {a[i].File} {a[i].Version} is not as expected after the patch");
        }
    }

    /// <summary>One version requirement of .gnu.version_r: the library, the version, its flags, and the vernaux entry's file offset.</summary>
    public readonly record struct VersionNeed(string File, string Version, ushort Flags, int Offset);

    /// <summary>Every version requirement (Elf64_Verneed → Elf64_Vernaux) of an ELF64 little-endian image, in file order.</summary>
    public static IReadOnlyList<VersionNeed> VersionNeeds(byte[] elf)
    {
        var (section, strings, count) = Section(elf, ShtGnuVerneed, ".gnu.version_r");
        var needs = new List<VersionNeed>();
        int vn = section;
        for (int i = 0; i < count; i++)
        {
            string file = CString(elf, strings, U32(elf, vn + 4));
            int aux = vn + (int)U32(elf, vn + 8);
            for (int j = 0, cnt = U16(elf, vn + 2); j < cnt; j++)
            {
                needs.Add(new VersionNeed(file, CString(elf, strings, U32(elf, aux + 8)), U16(elf, aux + 4), aux));
                aux += (int)U32(elf, aux + 12);
            }
            uint next = U32(elf, vn + 12);
            if (next == 0) break;
            vn += (int)next;
        }
        return needs;
    }

    /// <summary>The version names an ELF64 library defines (.gnu.version_d), e.g. GLIBCXX_3.4.30 for libstdc++.</summary>
    public static IReadOnlyList<string> VersionDefinitions(byte[] elf)
    {
        var (section, strings, count) = Section(elf, ShtGnuVerdef, ".gnu.version_d");
        var names = new List<string>();
        int vd = section;
        for (int i = 0; i < count; i++)
        {
            if (U16(elf, vd + 6) > 0) names.Add(CString(elf, strings, U32(elf, vd + (int)U32(elf, vd + 12)))); // first verdaux: the name
            uint next = U32(elf, vd + 16);
            if (next == 0) break;
            vd += (int)next;
        }
        return names;
    }

    /// <summary>Whether the ELF library at <paramref name="path"/> defines the symbol version <paramref name="version"/>.</summary>
    public static bool DefinesVersion(string path, string version) => VersionDefinitions(ReadElf(path)).Contains(version);

    private static byte[] ReadElf(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TorchNativeException($"cannot read {path}: {e.Message}");
        }
    }

    /// <summary>The file offset of the section of type <paramref name="type"/>, of its string table (sh_link), and sh_info.</summary>
    private static (int Offset, int Strings, int Info) Section(byte[] elf, uint type, string name)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F')
            throw new TorchNativeException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new TorchNativeException("not a 64-bit little-endian ELF file");
        long shoff = (long)U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
        if (shentsize < 64 || shoff <= 0 || shoff + (long)shnum * shentsize > elf.Length) throw new TorchNativeException("ELF section headers out of bounds");
        for (int i = 0; i < shnum; i++)
        {
            int sh = (int)shoff + i * shentsize;
            if (U32(elf, sh + 4) != type) continue;
            int link = (int)U32(elf, sh + 40);
            if (link >= shnum) throw new TorchNativeException($"ELF section {name}: bad string table index {link}");
            long offset = (long)U64(elf, sh + 24), size = (long)U64(elf, sh + 32);
            long strOffset = (long)U64(elf, (int)shoff + link * shentsize + 24);
            if (offset < 0 || offset + size > elf.Length || strOffset < 0 || strOffset >= elf.Length) throw new TorchNativeException($"ELF section {name} out of bounds");
            return ((int)offset, (int)strOffset, (int)U32(elf, sh + 44));
        }
        throw new TorchNativeException($"the ELF file has no {name} section");
    }

    private static ushort U16(byte[] b, int at) => at >= 0 && at + 2 <= b.Length ? BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at)) : throw OutOfBounds(at);
    private static uint U32(byte[] b, int at) => at >= 0 && at + 4 <= b.Length ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)) : throw OutOfBounds(at);
    private static ulong U64(byte[] b, int at) => at >= 0 && at + 8 <= b.Length ? BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at)) : throw OutOfBounds(at);
    private static TorchNativeException OutOfBounds(int at) => new($"ELF structure at 0x{at:x} runs past the end of the file");

    private static string CString(byte[] b, int table, uint index)
    {
        long start = table + (long)index;
        if (start >= b.Length) throw OutOfBounds((int)Math.Min(start, int.MaxValue));
        int end = Array.IndexOf(b, (byte)0, (int)start);
        if (end < 0) throw OutOfBounds((int)start);
        return Encoding.ASCII.GetString(b, (int)start, end - (int)start);
    }
}
