using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Era.Excel.Checking;
using Era.Figures;
using Era.Handouts;
using Era.Tests.Cli;

namespace Era.Tests.Handouts;

/// <summary>What `era handouts` writes, and that a failure leaves the output folder as it was.</summary>
public class HandoutsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("era-handouts-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Out => Path.Combine(_root, "handouts");

    private HandoutsResult Write(string? notebooks = null, NotebookExecutor? execute = null) =>
        Era.Handouts.Handouts.Write(new HandoutsOptions { NotebooksDirectory = notebooks ?? HandoutsFixture.Notebooks, OutputDirectory = Out, Execute = execute });

    private string Read(string file) => File.ReadAllText(Path.Combine(Out, file));

    private static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;

    /// <summary>Every file of a folder (hidden ones too) with a hash of its bytes.</summary>
    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public void PagesUseTheKatexVersionNpmPins()
    {
        string web = PlotlyJs.FindWebFolder()!;
        using var package = JsonDocument.Parse(File.ReadAllText(Path.Combine(web, "package.json")));
        Assert.Equal(WebAssets.KatexVersion, package.RootElement.GetProperty("dependencies").GetProperty("katex").GetString());
        using var lockFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(web, "package-lock.json")));
        Assert.Equal(WebAssets.KatexVersion, lockFile.RootElement.GetProperty("packages").GetProperty("node_modules/katex").GetProperty("version").GetString());
        using var installed = JsonDocument.Parse(File.ReadAllText(Path.Combine(web, "node_modules", "katex", "package.json")));
        Assert.Equal(WebAssets.KatexVersion, installed.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public void AStylesheetWhoseFontsCannotBeInlinedIsRefused()
    {
        // A KaTeX upgrade that names its fonts differently must fail loudly rather than make pages that fetch fonts.
        var e = Assert.Throws<HandoutException>(() => WebAssets.InlineFonts("@font-face{src:url(fonts/X.woff) format(\"woff\")}", _root));
        Assert.Contains("url(fonts/", e.Message);
        e = Assert.Throws<HandoutException>(() => WebAssets.InlineFonts("@font-face{src:url(fonts/Missing.woff2) format(\"woff2\")}", _root));
        Assert.Contains("Missing.woff2 is missing", e.Message);
    }

    [Fact]
    public void OnePagePerNotebookAnIndexTheWorkbookAndTheGuide()
    {
        var result = Write();
        Assert.Equal(["01-backprop.html", "02-mnist.html", "backprop.xlsx", "check-your-sheet.html", "index.html", "playground.html"], result.Files.Select(f => f.File));
        Assert.All(result.Files, f => Assert.Equal(new FileInfo(Path.Combine(Out, f.File)).Length, f.Bytes));
        Assert.Equal([".era-handouts", .. result.Files.Select(f => f.File)], Directory.GetFiles(Out).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheIndexListsEachNotebookInOrderWithItsHeadingAndFirstParagraph()
    {
        Write();
        string index = Read("index.html");
        int first = index.IndexOf("<a href=\"01-backprop.html\"><strong>Backprop by hand</strong></a>", StringComparison.Ordinal);
        int second = index.IndexOf("<a href=\"02-mnist.html\"><strong>MNIST CNN</strong></a>", StringComparison.Ordinal);
        Assert.True(first > 0 && second > first, "both notebooks, in file-name order");
        Assert.Contains("<p>A 2-2-2 network trained by gradient descent", index);
        Assert.Contains("<p>A convolutional network under 20k parameters", index);
        Assert.Contains("<a href=\"backprop.xlsx\">", index);
        Assert.Contains("<a href=\"check-your-sheet.html\">", index);
    }

    [Fact]
    public void ASummaryThatLeadsIntoAListEndsWithTheList()
    {
        var (title, summary) = Markdown.TitleAndSummary(["# One\n\nFirst the idea. You will\n\n1. do a,\n2. do b.\n\nMore later.\n"]);
        Assert.Equal("One", title);
        Assert.Equal("<p>First the idea. You will</p>\n<ol>\n<li>do a,</li>\n<li>do b.</li>\n</ol>", summary);
        // A paragraph that ends a sentence is the summary alone, even with a list after it.
        (_, summary) = Markdown.TitleAndSummary(["# Two", "Whole sentence (really).\n\n- a list\n"]);
        Assert.Equal("<p>Whole sentence (really).</p>", summary);
    }

    [Fact]
    public void DisplayMathOverSeveralLinesStaysOneFormula()
    {
        // A line of the formula that starts with "- " is a minus sign, not a list (as Jupyter shows it).
        string html = Markdown.ToHtml("Batch norm:\n\n$$a = b\n- c \\Big(d\n+ e\\Big)$$\n\nand `$$` in code, then\n\n```\n$$\n- x\n```\n");
        Assert.Contains("<span class=\"math display\">\\[a = b - c \\Big(d + e\\Big)\\]</span>", html);
        Assert.DoesNotContain("<li>", html);
        Assert.Contains("<pre><code>$$\n- x\n</code></pre>", html);
    }

    [Fact]
    public void PagesInlineTheirScriptsFontsAndPicturesOnce()
    {
        Write();
        foreach (var page in new[] { "01-backprop.html", "02-mnist.html" })
        {
            string html = Read(page);
            Assert.Equal(1, Count(html, $"/* plotly.js {PlotlyJs.Version}, from npm"));
            Assert.Equal(1, Count(html, $"/* KaTeX {WebAssets.KatexVersion} */"));
            Assert.DoesNotContain("url(fonts/", html);
            Assert.Equal(20, Count(html, "src:url(data:font/woff2;base64,"));
            Assert.DoesNotContain("<script src=", html);
            Assert.DoesNotContain("attachment:", html);
        }
        // The static pictures of the figures travel with them: a PNG beside the first, an SVG beside the second.
        Assert.Equal(1, Count(Read("01-backprop.html"), "<img class=\"fallback\" alt=\"the figure as a picture\" src=\"data:image/png;base64,iVBOR"));
        Assert.Equal(1, Count(Read("02-mnist.html"), "<img class=\"fallback\" alt=\"the figure as a picture\" src=\"data:image/svg+xml;base64,"));
        // Pages without figures do not carry plotly.js.
        Assert.DoesNotContain("plotly.js " + PlotlyJs.Version, Read("index.html"));
        Assert.DoesNotContain("plotly.js " + PlotlyJs.Version, Read("check-your-sheet.html"));
    }

    [Fact]
    public void CellsAndOutputsAreRenderedForReading()
    {
        Write();
        string one = Read("01-backprop.html"), two = Read("02-mnist.html");
        Assert.Contains("<title>Backprop by hand — How neural networks learn</title>", one);
        Assert.Contains("<pre><code class=\"language-csharp\">var table = IterationTable.Run(NetworkConfig.Classic, 2);", one);
        Assert.Contains("<span class=\"prompt\">[2]</span>", one);
        Assert.Contains("<pre class=\"output stream stdout\">E_total at k = 0: 0.298371109\n</pre>", one);
        Assert.Contains("<div class=\"output html\">\n<table id=\"table_638712\">", one);               // the DataFrame
        Assert.Contains("<strong>w5</strong>: the error reaches <span class=\"math\">\\(w_5\\)</span>", one);  // text/markdown
        Assert.Contains("<div class=\"output latex\"><div class=\"math\">\\[\\frac{\\partial E_{total}}{\\partial w_5} = (a_{o1} - t_1)", one);
        Assert.Contains("<span class=\"math display\">\\[\\frac{\\partial E_{total}}{\\partial w_5} = \\frac{\\partial E_1}", one);  // $$ in a paragraph
        Assert.Contains("<th>symbol</th>", one);                                                          // a pipe table
        Assert.Contains("<pre class=\"output stream stderr\">warning: threads = 1\n</pre>", two);         // ANSI colours removed
        Assert.Contains("<pre class=\"output error\"><strong>Error</strong>: System.InvalidOperationException: shapes [128, 10] and [128] differ", two);
        Assert.Contains("<img src=\"data:image/png;base64,iVBOR", two);                                   // a pasted picture
    }

    [Fact]
    public void TheWorkbookIsTheCoursesAndPassesTheChecker()
    {
        Write();
        var report = SheetChecker.Check(Path.Combine(Out, "backprop.xlsx"));
        Assert.True(report.Ok, report.ToText());
    }

    [Fact]
    public void TheGuideExplainsCheckSheet()
    {
        Write();
        string guide = Read("check-your-sheet.html");
        Assert.Contains("<h1 id=\"check-your-own-spreadsheet\">Check your own spreadsheet</h1>", guide);
        Assert.Contains("./era check-sheet my-backprop.xlsx", guide);
        foreach (var kind in new[] { FindingKind.Column, FindingKind.FromRow, FindingKind.Cell })
            Assert.Contains($"<td><code>{kind}</code></td>", guide);
    }

    [Fact]
    public void ARunReplacesItsOwnEarlierHandouts()
    {
        Write();
        File.WriteAllText(Path.Combine(Out, "stale.html"), "from an earlier run");
        Write();
        Assert.False(File.Exists(Path.Combine(Out, "stale.html")));
        Assert.Equal(["handouts"], Directory.GetFileSystemEntries(_root).Select(Path.GetFileName));
    }

    [Fact]
    public void ABrokenNotebookIsAClearErrorAndLeavesTheFolderAsItWas()
    {
        Write();
        var before = Snapshot(Out);
        string notebooks = Path.Combine(_root, "nb");
        Directory.CreateDirectory(notebooks);
        File.Copy(Path.Combine(HandoutsFixture.Notebooks, "01-backprop.ipynb"), Path.Combine(notebooks, "01-backprop.ipynb"));
        File.WriteAllText(Path.Combine(notebooks, "02-broken.ipynb"), "{\"cells\": [\n{\"cell_type\": ");
        var e = Assert.Throws<HandoutException>(() => Write(notebooks));
        Assert.Contains("02-broken.ipynb: not a notebook (invalid JSON at line", e.Message);
        Assert.Equal(before, Snapshot(Out));
        Assert.Equal(["handouts", "nb"], Directory.GetFileSystemEntries(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AFolderWithOtherFilesIsNotReplaced()
    {
        Directory.CreateDirectory(Out);
        File.WriteAllText(Path.Combine(Out, "thesis.tex"), "mine");
        var e = Assert.Throws<HandoutException>(() => Write());
        Assert.Contains("holds files that era handouts did not write", e.Message);
        Assert.Equal(["thesis.tex"], Directory.GetFiles(Out).Select(Path.GetFileName));
    }

    [Fact]
    public void MissingOrEmptyNotebookFoldersAreClearErrors()
    {
        var e = Assert.Throws<HandoutException>(() => Write(Path.Combine(_root, "nowhere")));
        Assert.Contains("no notebooks folder", e.Message);
        string empty = Path.Combine(_root, "empty");
        Directory.CreateDirectory(empty);
        e = Assert.Throws<HandoutException>(() => Write(empty));
        Assert.Contains("holds no notebooks (*.ipynb)", e.Message);
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public void WithAnExecutorTheHandoutsShowTheExecutedCopies()
    {
        // The --run seam: the executor gets the notebooks folder and returns the folder of executed notebooks.
        string executed = Path.Combine(_root, "executed");
        string? asked = null;
        Write(execute: dir =>
        {
            asked = dir;
            Directory.CreateDirectory(executed);
            foreach (var f in Directory.GetFiles(dir, "*.ipynb"))
                File.WriteAllText(Path.Combine(executed, Path.GetFileName(f)), File.ReadAllText(f).Replace("0.298371109", "0.111111111", StringComparison.Ordinal));
            return executed;
        });
        Assert.Equal(HandoutsFixture.Notebooks, asked);
        Assert.Contains("E_total at k = 0: 0.111111111", Read("01-backprop.html"));
    }

    [Fact]
    public void TheCommandWritesTheFolderAndListsTheFiles()
    {
        var (code, stdout, stderr) = CliRunner.Run("handouts", "--out", Out, "--notebooks", HandoutsFixture.Notebooks);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.StartsWith($"wrote {Out}:", stdout);
        Assert.Matches(@"01-backprop\.html +\d+\.\d KB", stdout);
        Assert.True(File.Exists(Path.Combine(Out, "index.html")));

        (code, _, stderr) = CliRunner.Run("handouts", "--notebooks", HandoutsFixture.Notebooks);
        Assert.Equal(2, code);
        Assert.Contains("--out", stderr);
        (code, _, stderr) = CliRunner.Run("handouts", "--out", Path.Combine(_root, "missing", "deeper"), "--notebooks", HandoutsFixture.Notebooks);
        Assert.Equal(1, code);
        Assert.Contains("does not exist (create it first)", stderr);
    }
}
