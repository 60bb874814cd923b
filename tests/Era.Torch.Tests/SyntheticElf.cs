using System.Buffers.Binary;
using System.Text;

namespace Era.Torch.Tests;

/// <summary>
/// Builds a minimal ELF64 little-endian file by hand: a header, .dynstr, .gnu.version_r (what it needs from which
/// library), .gnu.version_d (the versions it defines) and .shstrtab, with their section headers. Enough for the
/// loader's parser, and valid enough for `readelf -V` to read it the same way.
/// </summary>
internal static class SyntheticElf
{
    public static byte[] Build((string File, string[] Versions)[] needs, string[] definitions)
    {
        var dynstr = new StringTable();
        var verneed = new List<byte>();
        for (int i = 0; i < needs.Length; i++)
        {
            var (file, versions) = needs[i];
            bool last = i == needs.Length - 1;
            verneed.AddRange(U16(1)); verneed.AddRange(U16((ushort)versions.Length)); verneed.AddRange(U32(dynstr.Add(file)));
            verneed.AddRange(U32(16)); verneed.AddRange(U32(last ? 0u : (uint)(16 + 16 * versions.Length)));
            for (int j = 0; j < versions.Length; j++)
            {
                verneed.AddRange(U32(ElfHash(versions[j]))); verneed.AddRange(U16(0)); verneed.AddRange(U16((ushort)(10 + 10 * i + j)));
                verneed.AddRange(U32(dynstr.Add(versions[j]))); verneed.AddRange(U32(j == versions.Length - 1 ? 0u : 16u));
            }
        }
        var verdef = new List<byte>();
        for (int i = 0; i < definitions.Length; i++)
        {
            bool last = i == definitions.Length - 1;
            verdef.AddRange(U16(1)); verdef.AddRange(U16(i == 0 ? (ushort)1 : (ushort)0)); verdef.AddRange(U16((ushort)(i + 1))); verdef.AddRange(U16(1));
            verdef.AddRange(U32(ElfHash(definitions[i]))); verdef.AddRange(U32(20)); verdef.AddRange(U32(last ? 0u : 28u));
            verdef.AddRange(U32(dynstr.Add(definitions[i]))); verdef.AddRange(U32(0));
        }
        var shstr = new StringTable();
        uint nDynstr = shstr.Add(".dynstr"), nVerneed = shstr.Add(".gnu.version_r"), nVerdef = shstr.Add(".gnu.version_d"), nShstr = shstr.Add(".shstrtab");

        var body = new List<byte>(new byte[64]);
        int Append(byte[] data)
        {
            while (body.Count % 8 != 0) body.Add(0);
            int at = body.Count;
            body.AddRange(data);
            return at;
        }
        byte[] dyn = dynstr.Bytes();
        int oDyn = Append(dyn), oNeed = Append([.. verneed]), oDef = Append([.. verdef]);
        byte[] sh = shstr.Bytes();
        int oSh = Append(sh);
        while (body.Count % 8 != 0) body.Add(0);
        int shoff = body.Count;
        var sections = new (uint Name, uint Type, int Offset, int Size, uint Link, uint Info)[]
        {
            (0, 0, 0, 0, 0, 0),
            (nDynstr, 3, oDyn, dyn.Length, 0, 0),
            (nVerneed, 0x6ffffffe, oNeed, verneed.Count, 1, (uint)needs.Length),
            (nVerdef, 0x6ffffffd, oDef, verdef.Count, 1, (uint)definitions.Length),
            (nShstr, 3, oSh, sh.Length, 0, 0),
        };
        foreach (var s in sections)
        {
            var h = new byte[64];
            BinaryPrimitives.WriteUInt32LittleEndian(h, s.Name);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), s.Type);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(24), (ulong)s.Offset);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(32), (ulong)s.Size);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(40), s.Link);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(44), s.Info);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(48), s.Type == 3 ? 1ul : 8ul);
            body.AddRange(h);
        }
        var elf = body.ToArray();
        byte[] ident = [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0];
        ident.CopyTo(elf, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x10), 3);    // e_type ET_DYN
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x12), 62);   // e_machine x86-64
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(0x14), 1);    // e_version
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(0x28), (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x34), 64);   // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3A), 64);   // e_shentsize
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3C), (ushort)sections.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3E), 4);    // e_shstrndx
        return elf;
    }

    private static byte[] U16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); return b; }
    private static byte[] U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }

    /// <summary>The SysV ELF hash, as vna_hash and vd_hash hold.</summary>
    private static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (char c in name)
        {
            h = (h << 4) + c;
            uint g = h & 0xf0000000;
            if (g != 0) h ^= g >> 24;
            h &= ~g;
        }
        return h;
    }

    private sealed class StringTable
    {
        private readonly List<byte> _bytes = [0];
        private readonly Dictionary<string, uint> _at = [];

        public uint Add(string s)
        {
            if (_at.TryGetValue(s, out uint at)) return at;
            at = (uint)_bytes.Count;
            _bytes.AddRange(Encoding.ASCII.GetBytes(s));
            _bytes.Add(0);
            _at[s] = at;
            return at;
        }

        public byte[] Bytes() => [.. _bytes];
    }
}
