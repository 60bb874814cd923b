using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Era.Torch.Tests;

/// <summary>
/// The native loader's two branches and its ELF patch: on TorchSharp's real shim, on this machine's real libstdc++
/// (both cross-checked with binutils' readelf), and on synthetic ELF files that simulate either kind of system.
/// None of these tests loads libtorch.
/// </summary>
public sealed partial class NativeLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-torch-native-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The package's own libLibTorchSharp.so, as the build copied it beside the tests.</summary>
    private static string RealShim
    {
        get
        {
            string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            Assert.True(File.Exists(path), $"{path} is missing: the TorchSharp package's linux-x64 shim should be copied by the build");
            return path;
        }
    }

    private static string Readelf(string path)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("readelf", ["-V", "-W", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"readelf -V {path} failed: {p.StandardError.ReadToEnd()}");
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("readelf not found: apt-get install binutils");
            throw;
        }
    }

    /// <summary>readelf's view of .gnu.version_r: (file, version, flags) in file order.</summary>
    private static List<(string File, string Version, string Flags)> ReadelfNeeds(string path)
    {
        string text = Readelf(path);
        int start = text.IndexOf("Version needs section", StringComparison.Ordinal);
        Assert.True(start >= 0, "readelf shows no .gnu.version_r");
        var needs = new List<(string, string, string)>();
        string file = "";
        foreach (string line in text[start..].Split('\n').Skip(1))
        {
            var f = FileLine().Match(line);
            if (f.Success) { file = f.Groups[1].Value; continue; }
            var n = NameLine().Match(line);
            if (n.Success) needs.Add((file, n.Groups[1].Value, n.Groups[2].Value));
            else if (line.Length > 0 && !char.IsWhiteSpace(line[0]) && !line.StartsWith(' ')) break;
        }
        return needs;
    }

    [GeneratedRegex(@"Version:\s*\d+\s+File:\s*(\S+)")]
    private static partial Regex FileLine();

    [GeneratedRegex(@"Name:\s*(\S+)\s+Flags:\s*(\S+)")]
    private static partial Regex NameLine();

    [Fact]
    public void LoadingSetsAPassiveOpenMpWaitPolicyUnlessOneWasChosen()
    {
        string? before = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"); // as the process started
        TorchNative.EnsureLoaded();
        Assert.Equal(before ?? "PASSIVE", TorchNative.NativeEnvironmentVariable("OMP_WAIT_POLICY"));
    }

    [Fact]
    public void ReadsTheRealShimsVersionNeedsAsReadelfDoes()
    {
        var ours = TorchNative.VersionNeeds(File.ReadAllBytes(RealShim));
        var theirs = ReadelfNeeds(RealShim);
        Assert.Equal(theirs.Select(t => (t.File, t.Version)), ours.Select(n => (n.File, n.Version)));
        Assert.Contains(ours, n => n.File == "libstdc++.so.6" && n.Version == TorchNative.RequiredVersion && n.Flags == 0);
    }

    [Fact]
    public void PatchingTheRealShimChangesOnlyThatFlagAndReadelfSeesItWeak()
    {
        string copy = Path.Combine(_dir, "cache", "libLibTorchSharp.so");
        TorchNative.PatchedCopy(RealShim, copy);
        byte[] a = File.ReadAllBytes(RealShim), b = File.ReadAllBytes(copy);
        Assert.Equal(a.Length, b.Length);
        var changed = Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]).ToList();
        Assert.Single(changed); // one byte: the low byte of vna_flags, 0 → 2
        Assert.Equal(0, a[changed[0]]);
        Assert.Equal(2, b[changed[0]]);
        var need = TorchNative.VersionNeeds(a).Single(n => n.Version == TorchNative.RequiredVersion);
        Assert.Equal(need.Offset + 4, changed[0]);

        var after = ReadelfNeeds(copy);
        Assert.Equal("WEAK", after.Single(n => n.Version == TorchNative.RequiredVersion).Flags);
        Assert.All(after.Where(n => n.Version != TorchNative.RequiredVersion), n => Assert.Equal("none", n.Flags));
    }

    [Fact]
    public void AnExistingCopyIsReusedWhenRightAndRewrittenWhenNot()
    {
        string copy = Path.Combine(_dir, "libLibTorchSharp.so");
        TorchNative.PatchedCopy(RealShim, copy);
        var written = File.GetLastWriteTimeUtc(copy);
        TorchNative.PatchedCopy(RealShim, copy);
        Assert.Equal(written, File.GetLastWriteTimeUtc(copy));

        byte[] good = File.ReadAllBytes(copy);
        byte[] bad = (byte[])good.Clone();
        bad[1000] ^= 0xff;
        File.WriteAllBytes(copy, bad);
        TorchNative.PatchedCopy(RealShim, copy);
        Assert.Equal(good, File.ReadAllBytes(copy));
    }

    [Fact]
    public void ReadsThisMachinesLibstdcxxVersionsAsReadelfDoes()
    {
        string lib = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .FirstOrDefault(File.Exists) ?? throw new InvalidOperationException("libstdc++.so.6 not found: apt-get install libstdc++6");
        var ours = TorchNative.VersionDefinitions(File.ReadAllBytes(lib));
        var theirs = DefinitionLine().Matches(Readelf(lib)).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Contains("GLIBCXX_3.4", ours);
        Assert.Equal(theirs.Where(v => v.StartsWith("GLIBCXX_", StringComparison.Ordinal)).Order(), ours.Where(v => v.StartsWith("GLIBCXX_", StringComparison.Ordinal)).Order());
        Assert.Equal(theirs.Contains(TorchNative.RequiredVersion), TorchNative.DefinesVersion(lib, TorchNative.RequiredVersion));
    }

    [GeneratedRegex(@"Rev:\s*\d+\s+Flags:\s*\S+\s+Index:\s*\d+\s+Cnt:\s*\d+\s+Name:\s*(\S+)")]
    private static partial Regex DefinitionLine();

    private string Synthetic(string name, (string, string[])[] needs, string[] definitions)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, SyntheticElf.Build(needs, definitions));
        return path;
    }

    private static readonly (string, string[])[] ShimNeeds =
        [("libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.34"]), ("libstdc++.so.6", ["GLIBCXX_3.4.30", TorchNative.RequiredVersion, "CXXABI_1.3"])];

    [Fact]
    public void SyntheticElfReadsTheSameInReadelfAndHere()
    {
        string shim = Synthetic("shim.so", ShimNeeds, ["shim.so"]);
        var ours = TorchNative.VersionNeeds(File.ReadAllBytes(shim));
        Assert.Equal(ReadelfNeeds(shim).Select(t => (t.File, t.Version)), ours.Select(n => (n.File, n.Version)));
        Assert.Equal(5, ours.Count);
    }

    [Fact]
    public void PatchOnASyntheticShimSetsOnlyTheWeakBitOfThatEntry()
    {
        byte[] elf = SyntheticElf.Build(ShimNeeds, ["shim.so"]);
        byte[] patched = TorchNative.MarkVersionWeak(elf, TorchNative.RequiredVersion, out int at);
        TorchNative.VerifyOnlyFlagChanged(elf, patched, at, TorchNative.RequiredVersion);
        var needs = TorchNative.VersionNeeds(patched);
        Assert.Equal([0, 0, 0, TorchNative.VerFlagWeak, 0], needs.Select(n => (int)n.Flags));
        Assert.Single(Enumerable.Range(0, elf.Length), i => elf[i] != patched[i]);
    }

    [Fact]
    public void TheCheckRefusesAnyOtherChange()
    {
        byte[] elf = SyntheticElf.Build(ShimNeeds, ["shim.so"]);
        byte[] patched = TorchNative.MarkVersionWeak(elf, TorchNative.RequiredVersion, out int at);
        byte[] tampered = (byte[])patched.Clone();
        tampered[at - 3] ^= 1; // the entry's hash
        Assert.Contains("outside the vna_flags", Assert.Throws<TorchNativeException>(() => TorchNative.VerifyOnlyFlagChanged(elf, tampered, at, TorchNative.RequiredVersion)).Message);
        tampered = (byte[])patched.Clone();
        tampered[at] |= 0x1; // another flag bit of the same field
        Assert.Contains("not 0x2", Assert.Throws<TorchNativeException>(() => TorchNative.VerifyOnlyFlagChanged(elf, tampered, at, TorchNative.RequiredVersion)).Message);
    }

    [Fact]
    public void ABrokenOrUnexpectedFileIsOneClearError()
    {
        byte[] noRequirement = SyntheticElf.Build([("libc.so.6", ["GLIBC_2.2.5"])], ["x.so"]);
        Assert.Contains("no requirement of GLIBCXX_3.4.32", Assert.Throws<TorchNativeException>(() => TorchNative.MarkVersionWeak(noRequirement, TorchNative.RequiredVersion, out _)).Message);
        Assert.Equal("not an ELF file", Assert.Throws<TorchNativeException>(() => TorchNative.VersionNeeds(new byte[100])).Message);
        byte[] truncated = SyntheticElf.Build(ShimNeeds, ["shim.so"])[..200];
        Assert.Contains("out of bounds", Assert.Throws<TorchNativeException>(() => TorchNative.VersionNeeds(truncated)).Message);
        Assert.Contains("cannot read", Assert.Throws<TorchNativeException>(() => TorchNative.DefinesVersion(Path.Combine(_dir, "absent.so"), "X")).Message);
    }

    [Fact]
    public void NoPatchWhenTheSystemLibstdcxxHasTheVersion()
    {
        // Simulates Ubuntu 24.04: a libstdc++ that defines GLIBCXX_3.4.32. Nothing is written, nothing is to be loaded.
        string libstdcxx = Synthetic("libstdc++.so.6", [("libc.so.6", ["GLIBC_2.2.5"])], ["libstdc++.so.6", "GLIBCXX_3.4", "GLIBCXX_3.4.30", "GLIBCXX_3.4.31", "GLIBCXX_3.4.32"]);
        string cache = Path.Combine(_dir, "cache");
        var info = TorchNative.Prepare(libstdcxx, cache, RealShim);
        Assert.False(info.Patched);
        Assert.Null(info.Shim);
        Assert.Contains("no patch needed", info.Reason);
        Assert.False(Directory.Exists(cache));
    }

    [Fact]
    public void PatchedCopyWhenTheSystemLibstdcxxLacksTheVersion()
    {
        // Simulates Debian 12: GLIBCXX up to 3.4.30. The real shim is copied, patched and checked into the cache.
        string libstdcxx = Synthetic("libstdc++.so.6", [("libc.so.6", ["GLIBC_2.2.5"])], ["libstdc++.so.6", "GLIBCXX_3.4", "GLIBCXX_3.4.29", "GLIBCXX_3.4.30"]);
        string cache = Path.Combine(_dir, "cache");
        byte[] before = File.ReadAllBytes(RealShim);
        var info = TorchNative.Prepare(libstdcxx, cache, RealShim);
        Assert.True(info.Patched);
        Assert.StartsWith(cache, info.Shim);
        Assert.True(File.Exists(Path.Combine(info.Libtorch!, "libtorch_cpu.so")));
        var need = TorchNative.VersionNeeds(File.ReadAllBytes(info.Shim!)).Single(n => n.Version == TorchNative.RequiredVersion);
        Assert.Equal(TorchNative.VerFlagWeak, need.Flags);
        Assert.Equal(before, File.ReadAllBytes(RealShim)); // the package's file is untouched
    }
}
