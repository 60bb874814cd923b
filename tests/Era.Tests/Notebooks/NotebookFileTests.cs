using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Era.Cli.Notebooks;

namespace Era.Tests.Notebooks;

/// <summary>The committed notebooks as a reader gets them: valid nbformat 4.5 with metadata that opens as C#, executed, no
/// errors, and every figure readable where scripts do not run (GitHub, nbviewer) and offline.</summary>
public sealed partial class NotebookFileTests
{
    public static TheoryData<string> Names => Repo.NotebookNames();

    private static JsonObject Load(string name) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.NotebooksDir, name)))!;

    private static IEnumerable<JsonObject> CodeCells(JsonObject nb) =>
        nb["cells"]!.AsArray().Cast<JsonObject>().Where(c => (string?)c["cell_type"] == "code");

    private static IEnumerable<JsonObject> Outputs(JsonObject nb) =>
        CodeCells(nb).SelectMany(c => c["outputs"]!.AsArray().Cast<JsonObject>());

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonArray a => string.Concat(a.Select(x => (string?)x)),
        _ => (string?)node ?? "",
    };

    [Fact]
    public void TheCourseHasItsFiveNotebooksInOrder()
    {
        var names = Repo.Notebooks.Select(p => Path.GetFileNameWithoutExtension(p)!).ToArray();
        Assert.Equal(["01-chain-rule", "02-backprop-table", "03-learning-rates", "04-mnist-cnn", "05-torchsharp"], names);
    }

    [Theory, MemberData(nameof(Names))]
    public void MetadataOpensAsCSharpInVsCodesJupyterExtensionAndInPolyglotNotebooks(string name)
    {
        var nb = Load(name);
        Assert.Equal(4, (int)nb["nbformat"]!);
        Assert.Equal(5, (int)nb["nbformat_minor"]!);
        var meta = nb["metadata"]!.AsObject();
        // The kernel Jupyter and VS Code's Jupyter extension start: the kernelspec `./era setup` installs, by name.
        foreach (var (key, value) in Kernelspec.NotebookMetadata()) Assert.True(JsonNode.DeepEquals(value, meta[key]), $"{name}: metadata.{key}");
        Assert.Equal(Kernelspec.Name, (string?)meta["kernelspec"]!["name"]);
        Assert.Equal(Kernelspec.Name, Path.GetFileName(Kernelspec.Folder()));
        foreach (var cell in CodeCells(nb)) Assert.Equal("csharp", VsCodeCellLanguage(meta, cell));
        // Polyglot Notebooks (retired, still installed here and there): a kernelspec name starting ".net-" marks the
        // notebook as its own, and the kernel of each cell is read from polyglot_notebook (then dotnet_interactive).
        Assert.StartsWith(".net-", (string?)meta["kernelspec"]!["name"], StringComparison.Ordinal);
        Assert.Equal("csharp", (string?)meta["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]);
        foreach (var cell in CodeCells(nb))
        {
            Assert.Equal("csharp", (string?)cell["metadata"]!["dotnet_interactive"]!["language"]);
            Assert.Equal("csharp", (string?)cell["metadata"]!["polyglot_notebook"]!["kernelName"]);
        }
        var ids = nb["cells"]!.AsArray().Select(c => (string?)c!["id"]).ToList();
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    /// <summary>A code cell's language as VS Code's built-in ipynb deserializer gives it (microsoft/vscode,
    /// extensions/ipynb/src/deserializers.ts): the cell's metadata.vscode.languageId, else the notebook's
    /// language_info.name, else kernelspec.language, else python (with the Python extension; plaintext or csharp
    /// without), lower-cased, "X#" → "Xsharp". A language no installed extension contributes (such as the retired
    /// Polyglot extension's "polyglot-notebook") leaves the cell without C# highlighting or IntelliSense.</summary>
    public static string VsCodeCellLanguage(JsonObject notebookMetadata, JsonObject cell)
    {
        if (cell["metadata"]?["vscode"]?["languageId"] is JsonValue id && id.TryGetValue(out string? languageId) && languageId.Length > 0)
            return languageId;
        string language = NonEmpty(notebookMetadata["language_info"]?["name"]) ?? NonEmpty(notebookMetadata["kernelspec"]?["language"]) ?? "python";
        language = language.ToLowerInvariant();
        if (language.Length == 2 && language[1] == '#') return $"{language[0]}sharp";
        return language is "c++11" or "c++12" or "c++14" ? "c++" : language;

        static string? NonEmpty(JsonNode? n) => n is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0 ? s : null;
    }

    [Fact]
    public void TheDeserializerRuleGivesWhatVsCodeGives()
    {
        // The rule above on the metadata that writers of .NET notebooks leave: only a C# language name gives csharp.
        JsonObject Cell(JsonObject? vscode = null) => new() { ["metadata"] = vscode is null ? new JsonObject() : new JsonObject { ["vscode"] = vscode } };
        JsonObject Meta(string? languageInfo, string? kernelLanguage) => new()
        {
            ["language_info"] = languageInfo is null ? null : new JsonObject { ["name"] = languageInfo },
            ["kernelspec"] = kernelLanguage is null ? null : new JsonObject { ["language"] = kernelLanguage },
        };
        Assert.Equal("polyglot-notebook", VsCodeCellLanguage(Meta("polyglot-notebook", "C#"), Cell())); // what Polyglot wrote
        Assert.Equal("csharp", VsCodeCellLanguage(Meta("C#", "C#"), Cell()));                            // the kernel's own
        Assert.Equal("csharp", VsCodeCellLanguage(Meta(null, "C#"), Cell()));
        Assert.Equal("fsharp", VsCodeCellLanguage(Meta("F#", null), Cell()));
        Assert.Equal("python", VsCodeCellLanguage(Meta(null, null), Cell()));
        Assert.Equal("csharp", VsCodeCellLanguage(Meta("polyglot-notebook", null), Cell(new JsonObject { ["languageId"] = "csharp" })));
    }

    [Theory, MemberData(nameof(Names))]
    public void OpensWithWhatItTeachesAndEndsWithExercises(string name)
    {
        var cells = Load(name)["cells"]!.AsArray().Cast<JsonObject>().ToList();
        string first = Text(cells[0]["source"]), last = Text(cells[^1]["source"]);
        Assert.Equal("markdown", (string?)cells[0]["cell_type"]);
        Assert.StartsWith("# ", first);
        Assert.Contains("What this notebook teaches", first);
        Assert.Equal("markdown", (string?)cells[^1]["cell_type"]);
        Assert.Contains("## Try next", last);
        // Markdown as a reader sees it: one title (the first line), then ## sections; a line starting "# " anywhere else
        // would render as a second title (as a percent-format comment left in would).
        var markdownLines = cells.Where(c => (string?)c["cell_type"] == "markdown").SelectMany(c => Text(c["source"]).Split('\n')).ToList();
        Assert.Single(markdownLines, l => l.StartsWith("# ", StringComparison.Ordinal));
        Assert.Contains(markdownLines, l => l.StartsWith("## ", StringComparison.Ordinal));
        // The first code cell loads the course library the kernel's own way.
        Assert.Contains("#r \"nuget: Era.Notebooks, 1.0.0-local\"", Text(CodeCells(Load(name)).First()["source"]));
    }

    [Theory, MemberData(nameof(Names))]
    public void IsCommittedExecutedWithoutErrors(string name)
    {
        var nb = Load(name);
        var cells = CodeCells(nb).ToList();
        Assert.All(cells, c => Assert.True(c["execution_count"] is JsonValue, $"{name}: a code cell was not executed"));
        var counts = cells.Select(c => (int)c["execution_count"]!).ToList();
        Assert.Equal(counts.Order().ToList(), counts); // one run, top to bottom
        Assert.DoesNotContain(Outputs(nb), o => (string?)o["output_type"] == "error");
        Assert.DoesNotContain(Outputs(nb), o => (string?)o["output_type"] == "stream" && (string?)o["name"] == "stderr");
        Assert.True(Outputs(nb).Count() >= cells.Count - 2, $"{name}: most code cells should show something");
    }

    /// <summary>
    /// No output shows the kernel's loader chatter or a path of the machine that ran the notebook (the runner drops
    /// the chatter; cells print paths relative to the notebook). Committed notebooks are regenerated with
    /// `./era notebooks run --in-place`: a notebook saved before the runner dropped the chatter fails here until then.
    /// </summary>
    [Theory, MemberData(nameof(Names))]
    public void ShowsNoMachinePathAndNoKernelChatter(string name)
    {
        var found = MachineText.Outputs(Load(name)).SelectMany(o => MachineText.Find(o.Text).Select(f => $"cell {o.Cell}: {f}")).ToList();
        Assert.True(found.Count == 0, $"{name}: {string.Join("; ", found)}");
    }

    [Theory, MemberData(nameof(Names))]
    public void EveryFigureCarriesAStaticImageAndNeedsNoCdnOffline(string name)
    {
        var bundles = Outputs(Load(name)).Where(o => o["data"] is JsonObject).Select(o => o["data"]!.AsObject()).ToList();
        int figures = 0;
        foreach (var data in bundles)
        {
            string html = Text(data["text/html"]);
            Assert.DoesNotContain("dotnet-interactive-this-cell", html); // the kernel's front-end loader is dropped
            bool usesNetwork = HttpReference().IsMatch(html);
            if (html.Contains("Plotly.newPlot", StringComparison.Ordinal))
            {
                figures++;
                // GitHub and nbviewer strip scripts: the same display has a PNG...
                Assert.True(data["image/png"] is not null, $"{name}: a figure without an image/png beside its HTML");
                var png = Convert.FromBase64String(Text(data["image/png"]).Replace("\n", ""));
                Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
                // ...and the HTML shows that picture until plotly.js has loaded, so offline it still shows the figure.
                Assert.Matches("<img src=\"data:image/png;base64,", html);
            }
            else
            {
                Assert.False(usesNetwork, $"{name}: an HTML output needs the network: {HttpReference().Match(html).Value}");
            }
        }
        if (name is "01-chain-rule.ipynb" or "02-backprop-table.ipynb" or "03-learning-rates.ipynb" or "04-mnist-cnn.ipynb")
            Assert.True(figures > 0, $"{name} should show figures");
    }

    /// <summary>Jupyter's own validator (nbformat, the reference implementation) accepts every notebook.</summary>
    [Fact]
    public void JupyterValidatesEveryNotebook()
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("import sys, nbformat\nfor p in sys.argv[1:]:\n    nbformat.validate(nbformat.read(p, as_version=4))\n    print('valid', p)");
        foreach (var nb in Repo.Notebooks) psi.ArgumentList.Add(nb);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd(), error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"nbformat rejected a notebook (apt-get install python3-nbformat if missing):\n{error}");
        Assert.Equal(Repo.Notebooks.Length, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [GeneratedRegex(@"(src|href)\s*=\s*[""']https?://|https?://cdn", RegexOptions.IgnoreCase)]
    private static partial Regex HttpReference();
}
