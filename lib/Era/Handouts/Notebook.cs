using System.Text.Json;

namespace Era.Handouts;

/// <summary>One output of a code cell: a stream (stdout/stderr), a rich bundle (mime type → text), or an error.</summary>
public sealed record NotebookOutput(
    string OutputType,
    IReadOnlyDictionary<string, string> Data,
    string? StreamName = null,
    string? Text = null,
    string? ErrorName = null,
    string? ErrorValue = null,
    IReadOnlyList<string>? Traceback = null);

/// <summary>A markdown, code or raw cell; attachments (name → mime → base64) for images pasted into markdown.</summary>
public sealed record NotebookCell(
    string CellType,
    string Source,
    string Language,
    int? ExecutionCount,
    IReadOnlyList<NotebookOutput> Outputs,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Attachments);

/// <summary>
/// A Jupyter notebook (nbformat 4) as .NET Interactive / Polyglot Notebooks save it: cells with their outputs. Only
/// what a handout shows is read; a file that is not a notebook is a <see cref="HandoutException"/> naming the file.
/// </summary>
public sealed record Notebook(string Path, string DefaultLanguage, IReadOnlyList<NotebookCell> Cells)
{
    /// <summary>Notebooks over this size are refused rather than read into memory (outputs with images included).</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    public static Notebook Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new HandoutException($"{path}: no such notebook");
        if (info.Length > MaxBytes) throw new HandoutException($"{path}: {info.Length:N0} bytes, over the {MaxBytes / (1024 * 1024)} MB a notebook may have");
        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
            return Parse(path, doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new HandoutException($"{path}: not a notebook (invalid JSON at line {e.LineNumber + 1}: {FirstLine(e.Message)})");
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new HandoutException($"{path}: not an nbformat 4 notebook ({FirstLine(e.Message)})");
        }
    }

    private static Notebook Parse(string path, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("cells", out var cells) || cells.ValueKind != JsonValueKind.Array)
            throw new HandoutException($"{path}: not a notebook (no \"cells\" array)");
        if (root.TryGetProperty("nbformat", out var format) && format.ValueKind == JsonValueKind.Number && format.GetInt32() != 4)
            throw new HandoutException($"{path}: nbformat {format.GetInt32()}, expected 4");
        // .NET Interactive names the notebook's default kernel in metadata; C# unless it says otherwise.
        string language = "csharp";
        if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
        {
            if (meta.TryGetProperty("polyglot_notebook", out var poly) && poly.ValueKind == JsonValueKind.Object
                && poly.TryGetProperty("defaultKernelName", out var k) && k.ValueKind == JsonValueKind.String)
                language = k.GetString()!;
        }
        var list = new List<NotebookCell>();
        foreach (var cell in cells.EnumerateArray())
            list.Add(ParseCell(cell, language));
        return new Notebook(path, language, list);
    }

    private static NotebookCell ParseCell(JsonElement cell, string defaultLanguage)
    {
        string type = cell.GetProperty("cell_type").GetString() ?? "raw";
        string source = Text(cell.GetProperty("source"));
        string language = defaultLanguage;
        if (cell.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
        {
            if (meta.TryGetProperty("dotnet_interactive", out var di) && di.ValueKind == JsonValueKind.Object
                && di.TryGetProperty("language", out var l) && l.ValueKind == JsonValueKind.String)
                language = l.GetString()!;
            else if (meta.TryGetProperty("polyglot_notebook", out var pn) && pn.ValueKind == JsonValueKind.Object
                && pn.TryGetProperty("kernelName", out var kn) && kn.ValueKind == JsonValueKind.String)
                language = kn.GetString()!;
        }
        int? count = cell.TryGetProperty("execution_count", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : null;
        var outputs = new List<NotebookOutput>();
        if (cell.TryGetProperty("outputs", out var outs) && outs.ValueKind == JsonValueKind.Array)
            foreach (var o in outs.EnumerateArray())
                outputs.Add(ParseOutput(o));
        var attachments = new Dictionary<string, IReadOnlyDictionary<string, string>>();
        if (cell.TryGetProperty("attachments", out var att) && att.ValueKind == JsonValueKind.Object)
            foreach (var a in att.EnumerateObject())
                attachments[a.Name] = Bundle(a.Value);
        return new NotebookCell(type, source, language, count, outputs, attachments);
    }

    private static NotebookOutput ParseOutput(JsonElement o)
    {
        string type = o.GetProperty("output_type").GetString() ?? "";
        return type switch
        {
            "stream" => new NotebookOutput(type, Empty, o.TryGetProperty("name", out var n) ? n.GetString() : "stdout", Text(o.GetProperty("text"))),
            "error" => new NotebookOutput(type, Empty,
                ErrorName: o.TryGetProperty("ename", out var en) ? en.GetString() : "Error",
                ErrorValue: o.TryGetProperty("evalue", out var ev) ? ev.GetString() : "",
                Traceback: o.TryGetProperty("traceback", out var tb) && tb.ValueKind == JsonValueKind.Array
                    ? tb.EnumerateArray().Select(t => t.GetString() ?? "").ToList() : []),
            _ => new NotebookOutput(type, o.TryGetProperty("data", out var d) ? Bundle(d) : Empty),
        };
    }

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    /// <summary>A mime bundle: each value a string or a list of lines (JSON values, e.g. application/json, kept as JSON text).</summary>
    private static Dictionary<string, string> Bundle(JsonElement data)
    {
        var bundle = new Dictionary<string, string>(StringComparer.Ordinal);
        if (data.ValueKind != JsonValueKind.Object) return bundle;
        foreach (var p in data.EnumerateObject())
            bundle[p.Name] = p.Value.ValueKind is JsonValueKind.String or JsonValueKind.Array && IsText(p.Value) ? Text(p.Value) : p.Value.GetRawText();
        return bundle;
    }

    private static bool IsText(JsonElement e) =>
        e.ValueKind == JsonValueKind.String || e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String);

    /// <summary>nbformat stores multi-line text as one string or as a list of lines (each with its "\n").</summary>
    private static string Text(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Array => string.Concat(e.EnumerateArray().Select(x => x.GetString())),
        JsonValueKind.Null => "",
        _ => throw new FormatException($"expected text, found {e.ValueKind}"),
    };

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}

/// <summary>Handouts could not be written: a missing or malformed notebook, an output folder that is not ours.</summary>
public sealed class HandoutException(string message, Exception? inner = null) : Exception(message, inner);
