using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Era.Tests.Notebooks;

/// <summary>The committed notebooks as a reader gets them: valid nbformat 4.5 with VS Code's metadata, executed, no
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
    public void MetadataIsWhatVsCodeWrites(string name)
    {
        var nb = Load(name);
        Assert.Equal(4, (int)nb["nbformat"]!);
        Assert.Equal(5, (int)nb["nbformat_minor"]!);
        var meta = nb["metadata"]!;
        Assert.Equal(".NET (C#)", (string?)meta["kernelspec"]!["display_name"]);
        Assert.Equal("C#", (string?)meta["kernelspec"]!["language"]);
        Assert.Equal(".net-csharp", (string?)meta["kernelspec"]!["name"]);
        Assert.Equal("polyglot-notebook", (string?)meta["language_info"]!["name"]);
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
