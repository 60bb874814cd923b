using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Era.Tests.Notebooks;

/// <summary>
/// What must not reach a committed notebook's outputs or a handout page: an absolute path of the machine that ran it
/// (a home folder, the checkout, a temporary folder: /root/…, /home/…, /Users/…, /work/…, /tmp/…, C:\Users\…, and
/// this machine's own $HOME, checkout and temp folder) or the kernel's loader chatter ("Loading extensions from …",
/// "Installed Packages"). System paths that are the same everywhere (/usr/lib/…) are fine.
/// </summary>
internal static partial class MachineText
{
    /// <summary>Each offending piece of <paramref name="text"/>, as found.</summary>
    public static IEnumerable<string> Find(string text)
    {
        foreach (Match m in GenericPath().Matches(text)) yield return m.Value;
        var own = new[] { Repo.Root, Environment.GetEnvironmentVariable("HOME"), Path.GetTempPath().TrimEnd('/') }
            .Where(p => !string.IsNullOrEmpty(p) && p.Length > 1).Distinct();
        foreach (var p in own)
            if (text.Contains(p + "/", StringComparison.Ordinal)) yield return p + "/…";
        foreach (var chatter in new[] { "Loading extension", "Installed Packages" })
            if (text.Contains(chatter, StringComparison.Ordinal)) yield return chatter;
    }

    /// <summary>The text a notebook's code cells show: every output's text and mime values, pictures left out.</summary>
    public static IEnumerable<(int Cell, string Text)> Outputs(JsonObject notebook) =>
        notebook["cells"]!.AsArray().Cast<JsonObject>().Select((c, i) => (Cell: i + 1, Cell_: c))
            .Where(c => (string?)c.Cell_["cell_type"] == "code")
            .SelectMany(c => c.Cell_["outputs"]!.AsArray().Cast<JsonObject>().Select(o => (c.Cell, OutputText(o))));

    private static string OutputText(JsonObject o)
    {
        var parts = new List<string> { Text(o["text"]), Text(o["evalue"]), Text(o["traceback"]) };
        if (o["data"] is JsonObject data)
            parts.AddRange(data.Where(kv => !kv.Key.StartsWith("image/", StringComparison.Ordinal)).Select(kv => Text(kv.Value)));
        return string.Join("\n", parts);
    }

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonArray a => string.Join("", a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : x?.ToJsonString())),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    [GeneratedRegex(@"(?<![\w.~/-])(?:/(?:root|home|Users|work|tmp|mnt|private|var/folders)/|[A-Za-z]:\\(?:Users|Windows)\\)[^\s""'`<>)]*")]
    private static partial Regex GenericPath();
}
