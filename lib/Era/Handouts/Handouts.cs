using System.Net;
using System.Text;
using Era.Backprop;
using Era.Excel.Writing;

namespace Era.Handouts;

/// <summary>
/// Executes notebooks so that the handouts show fresh outputs: given the folder of the course notebooks, returns a
/// folder holding the executed copies (same file names). The seam for `era handouts --run`.
/// </summary>
public delegate string NotebookExecutor(string notebooksDirectory);

public sealed record HandoutsOptions
{
    /// <summary>The folder of the course notebooks (*.ipynb, taken in file-name order: 01-…, 02-…).</summary>
    public required string NotebooksDirectory { get; init; }

    /// <summary>The folder to write; replaced as a whole, or left exactly as it was if anything fails.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Null: the notebooks' committed outputs. Otherwise run first, and hand out the executed copies.</summary>
    public NotebookExecutor? Execute { get; init; }
}

/// <summary>What was written: each file with its size in bytes.</summary>
public sealed record HandoutsResult(string OutputDirectory, IReadOnlyList<(string File, long Bytes)> Files);

/// <summary>
/// `era handouts`: the course handed out as files. One standalone page per notebook, an index page (what each notebook
/// teaches, in order), the live 2-2-2 playground, the backprop workbook, and a one-page guide to checking a spreadsheet with `era check-sheet`.
/// Everything is written into a temporary folder beside the target and moved into place at the end.
/// </summary>
public static class Handouts
{
    /// <summary>Marks a folder as written by era handouts, so that a later run may replace it.</summary>
    public const string Marker = ".era-handouts";

    public const string IndexPage = "index.html";
    public const string GuidePage = "check-your-sheet.html";
    public const string Workbook = "backprop.xlsx";

    public static HandoutsResult Write(HandoutsOptions options)
    {
        string target = Path.GetFullPath(options.OutputDirectory);
        string parent = Path.GetDirectoryName(target) ?? throw new HandoutException($"{target}: cannot write handouts to a file-system root");
        if (!Directory.Exists(parent)) throw new HandoutException($"the folder {parent} does not exist (create it first)");
        Recover(target);
        if (File.Exists(target)) throw new HandoutException($"{target} is a file, not a folder");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !File.Exists(Path.Combine(target, Marker)))
            throw new HandoutException($"{target} holds files that era handouts did not write: choose a new or empty folder");

        string notebooksDir = options.NotebooksDirectory;
        if (!Directory.Exists(notebooksDir)) throw new HandoutException($"no notebooks folder {notebooksDir}");
        if (options.Execute is { } execute) notebooksDir = execute(notebooksDir);
        var notebookFiles = Directory.GetFiles(notebooksDir, "*.ipynb").Order(StringComparer.Ordinal).ToList();
        if (notebookFiles.Count == 0) throw new HandoutException($"{notebooksDir} holds no notebooks (*.ipynb)");

        var assets = WebAssets.Load();
        string temp = Path.Combine(parent, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            var entries = new List<(string Page, string Title, string? Summary)>();
            foreach (var file in notebookFiles)
            {
                // One notebook in memory at a time.
                var notebook = Notebook.Load(file);
                var (title, summary) = Markdown.TitleAndSummary(notebook.Cells.Where(c => c.CellType == "markdown").Select(c => c.Source));
                title ??= Path.GetFileNameWithoutExtension(file);
                string page = Path.GetFileNameWithoutExtension(file) + ".html";
                File.WriteAllText(Path.Combine(temp, page), HandoutPage.ForNotebook(notebook, title, assets), Utf8);
                entries.Add((page, title, summary));
            }
            BackpropWorkbook.WriteFile(Path.Combine(temp, Workbook), NetworkConfig.Classic);
            File.WriteAllText(Path.Combine(temp, Playground.PageName), Playground.Page(assets), Utf8);
            File.WriteAllText(Path.Combine(temp, GuidePage), HandoutPage.ForMarkdown("Check your own spreadsheet", CheckSheetGuide.Markdown, assets), Utf8);
            File.WriteAllText(Path.Combine(temp, IndexPage), Index(entries, assets), Utf8);
            File.WriteAllText(Path.Combine(temp, Marker), "written by `era handouts`; the whole folder is replaced by the next run\n", Utf8);
            var files = Directory.GetFiles(temp).Select(f => (Path.GetFileName(f), new FileInfo(f).Length))
                .Where(f => f.Item1 != Marker).OrderBy(f => f.Item1, StringComparer.Ordinal).ToList();
            Swap(temp, target);
            return new HandoutsResult(target, files);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static readonly UTF8Encoding Utf8 = new(false);

    private static string Index(IReadOnlyList<(string Page, string Title, string? Summary)> entries, WebAssets assets)
    {
        var body = new StringBuilder("<section class=\"cell markdown\">\n");
        body.Append($"<h1>{HandoutPage.CourseTitle}</h1>\n");
        body.Append("<p>A course in C# notebooks, from the chain rule to a trained digit classifier. Read the notebooks in order:</p>\n");
        body.Append("<ol class=\"course\">\n");
        foreach (var (page, title, summary) in entries)
        {
            body.Append($"<li><a href=\"{WebUtility.HtmlEncode(Uri.EscapeDataString(page))}\"><strong>{WebUtility.HtmlEncode(title)}</strong></a>\n");
            if (summary is not null) body.Append(summary).Append('\n');
            body.Append("</li>\n");
        }
        body.Append("</ol>\n<h2>To work with</h2>\n<ul>\n");
        body.Append($"<li><a href=\"{Playground.PageName}\">{Playground.Title}</a>: inputs, weights, η and the iteration "
            + "in your hands, the diagram, the table's row and the loss curves redrawn as you change them (in the page, offline).</li>\n");
        body.Append($"<li><a href=\"{Workbook}\">{Workbook}</a>: the 2-2-2 network's iteration table as a live Excel workbook "
            + "(change a yellow cell and every table and chart follows).</li>\n");
        body.Append($"<li><a href=\"{GuidePage}\">Check your own spreadsheet</a> with <code>era check-sheet</code>.</li>\n");
        body.Append("</ul>\n</section>\n");
        return HandoutPage.Page(HandoutPage.CourseTitle, body.ToString(), assets, figures: false);
    }

    /// <summary>Puts the finished folder in place: the old one (if any) is moved aside first and deleted last.</summary>
    private static void Swap(string temp, string target)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(temp, target);
            return;
        }
        string old = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.old");
        Directory.Move(target, old);
        try
        {
            Directory.Move(temp, target);
        }
        catch
        {
            Directory.Move(old, target);
            throw;
        }
        TryDelete(old);
    }

    /// <summary>
    /// What an earlier run killed part-way left beside <paramref name="target"/> (<c>.NAME.PID.GUID.tmp</c> and
    /// <c>.old</c> folders of a process no longer running): a swap stopped between its two renames is finished when
    /// the new folder was complete (it holds the <see cref="Marker"/>, written last) or undone, and the rest removed.
    /// </summary>
    private static void Recover(string target)
    {
        string prefix = $".{Path.GetFileName(target)}.";
        var stale = Directory.EnumerateDirectories(Path.GetDirectoryName(target)!, prefix + "*")
            .Select(d => (Dir: d, Parts: Path.GetFileName(d)[prefix.Length..].Split('.')))
            .Where(d => d.Parts is [var pid, { Length: 32 }, "tmp" or "old"] && int.TryParse(pid, out int id) && !Running(id))
            .ToList();
        foreach (var (old, parts) in stale.Where(d => d.Parts[2] == "old"))
        {
            if (!Directory.Exists(target))
            {
                string? done = stale.FirstOrDefault(d => d.Parts[0] == parts[0] && d.Parts[2] == "tmp" && File.Exists(Path.Combine(d.Dir, Marker))).Dir;
                Directory.Move(done ?? old, target);
            }
            TryDelete(old);
        }
        foreach (var (tmp, _) in stale.Where(d => d.Parts[2] == "tmp")) TryDelete(tmp);
    }

    private static bool Running(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
