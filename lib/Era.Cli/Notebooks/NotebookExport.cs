using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Era.IO;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Era.Cli.Notebooks;

/// <summary>A cell <see cref="NotebookExport"/> cannot turn into C#: which notebook, which cell (1-based, markdown
/// cells counted, as the runner counts them) and why.</summary>
public sealed class NotebookExportException(string message) : Exception(message);

/// <summary>
/// `./era notebooks export`: each notebook as a C# file-based app (notebooks/apps/NN-name.cs, run with
/// <c>dotnet run notebooks/apps/NN-name.cs</c>; no kernel, no Python). The notebook stays the source; the app is
/// generated, and a test fails when a committed app differs from what this makes. Each code cell is parsed as the
/// kernel parses it (a C# script):
/// <list type="bullet">
/// <item>markdown cells become <c>//</c> comments;</item>
/// <item><c>#r "nuget: Era.Notebooks, …"</c> (and Era.Torch) become <c>#:project</c> on the course library;</item>
/// <item>using directives move to the top and type declarations to the end, as a file of top-level statements needs;</item>
/// <item>the cell's trailing expression and each <c>display(…)</c> become <c>Show(…)</c>
/// (<c>Era.Notebooks.NotebookApp</c>), which prints text and writes each figure as PNG and HTML to
/// notebooks/out/NN-name/, numbered by cell.</item>
/// </list>
/// Anything else the kernel has and C# has not (a <c>#!</c> magic command, another <c>#r</c>, a cell that does not
/// parse) is refused: the error names the notebook and the cell, and nothing is written.
/// </summary>
public static class NotebookExport
{
    private static readonly CSharpParseOptions Script = new(LanguageVersion.Latest, kind: SourceCodeKind.Script);

    /// <summary>The course's libraries a notebook loads with <c>#r "nuget: …"</c>, as projects relative to notebooks/apps.</summary>
    private static readonly Dictionary<string, string> Projects = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Era.Notebooks"] = "../../lib/Era.Notebooks/Era.Notebooks.csproj",
        ["Era.Torch"] = "../../lib/Era.Torch/Era.Torch.csproj",
    };

    /// <summary>notebooks/apps/NN-name.cs for notebooks/NN-name.ipynb.</summary>
    public static string AppPath(string notebook) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(notebook))!, "apps", Path.GetFileNameWithoutExtension(notebook) + ".cs");

    /// <summary>Translates every notebook first, then writes each app atomically: one untranslatable cell anywhere
    /// writes nothing. Returns the apps written.</summary>
    public static IReadOnlyList<string> Export(IReadOnlyList<string> notebooks)
    {
        var apps = notebooks.Select(nb => (Path: AppPath(nb), Text: Translate(nb))).ToList();
        foreach (var app in apps)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(app.Path)!);
            AtomicFile.WriteAllText(app.Path, app.Text);
        }
        return apps.Select(a => a.Path).ToList();
    }

    /// <summary>The app's source for one notebook.</summary>
    public static string Translate(string notebook)
    {
        string name = Path.GetFileNameWithoutExtension(notebook), file = Path.GetFileName(notebook);
        JsonArray cells;
        try
        {
            cells = JsonNode.Parse(File.ReadAllText(notebook))?["cells"]?.AsArray() ?? throw new NotebookExportException($"{file}: not a notebook (no cells)");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or IOException)
        {
            throw new NotebookExportException($"{file}: not a notebook ({e.Message})");
        }

        var projects = new List<string>();
        var usings = new List<string>();
        var types = new List<string>();
        var body = new StringBuilder();
        for (int i = 0; i < cells.Count; i++)
        {
            var cell = cells[i] as JsonObject ?? throw new NotebookExportException($"{file}: cell {i + 1} is not an object");
            string source = Source(cell["source"]);
            string fail(string why) => throw new NotebookExportException($"{file}: cell {i + 1}: {why}");
            switch ((string?)cell["cell_type"])
            {
                case "markdown":
                    foreach (var line in source.TrimEnd('\n').Split('\n')) body.Append(line.Length == 0 ? "//" : "// " + line).Append('\n');
                    body.Append('\n');
                    break;
                case "code":
                    body.Append($"Cell({i + 1});\n");
                    TranslateCode(source, projects, usings, types, body, fail);
                    body.Append('\n');
                    break;
                case "raw":
                    break;
                default:
                    fail($"unknown cell type '{(string?)cell["cell_type"]}'");
                    break;
            }
        }

        var app = new StringBuilder();
        app.Append($"// notebooks/{file} as a C# file-based app, generated by `./era notebooks export`: the notebook is the\n");
        app.Append("// source, so edit it and export again. From the checkout:\n");
        app.Append($"//   dotnet run notebooks/apps/{name}.cs              (ERA_QUICK=1: the notebook's quick mode)\n");
        app.Append($"// prints what the cells show and writes each figure (PNG and HTML) to notebooks/out/{name}/.\n");
        foreach (var p in projects) app.Append($"#:project {p}\n");
        // What every app needs beside its projects (the kernel's packages, its compiler settings) is in
        // notebooks/apps/Directory.Build.props.
        app.Append('\n');
        foreach (var u in usings) app.Append(u).Append('\n');
        app.Append("using static Era.Notebooks.NotebookApp;\n\n");
        app.Append($"Start(\"{name}\");\n\n");
        app.Append(body.ToString().TrimEnd('\n')).Append('\n');
        foreach (var t in types) app.Append('\n').Append(t).Append('\n');
        return app.ToString();
    }

    private static void TranslateCode(string source, List<string> projects, List<string> usings, List<string> types, StringBuilder body, Func<string, string> fail)
    {
        foreach (var line in source.Split('\n'))
            if (line.TrimStart().StartsWith("#!", StringComparison.Ordinal))
                fail($"the magic command '{line.Trim()}' has no C# form");
        var tree = CSharpSyntaxTree.ParseText(source, Script);
        if (tree.GetDiagnostics().FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error) is { } error)
            fail($"does not parse as C#: {error.GetMessage(System.Globalization.CultureInfo.InvariantCulture)} (line {error.Location.GetLineSpan().StartLinePosition.Line + 1})");
        var root = (CompilationUnitSyntax)tree.GetRoot();

        foreach (var directive in root.DescendantTrivia(descendIntoTrivia: true).Where(t => t.IsDirective).Select(t => t.GetStructure()))
            switch (directive)
            {
                case ReferenceDirectiveTriviaSyntax r when r.File.ValueText.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase):
                    string package = r.File.ValueText["nuget:".Length..].Split(',')[0].Trim();
                    if (!Projects.TryGetValue(package, out var project)) fail($"'{r.ToString().Trim()}' loads a package that is not the course's");
                    else if (!projects.Contains(project)) projects.Add(project);
                    break;
                case PragmaWarningDirectiveTriviaSyntax or NullableDirectiveTriviaSyntax or RegionDirectiveTriviaSyntax or EndRegionDirectiveTriviaSyntax:
                    break;
                default:
                    fail($"the directive '{directive?.ToString().Trim()}' has no file-based-app form");
                    break;
            }

        foreach (var u in root.Usings.Select(u => u.WithoutTrivia().ToString()))
            if (!usings.Contains(u)) usings.Add(u);

        root = (CompilationUnitSyntax)new DisplayToShow().Visit(root);
        var members = root.Members;
        var cell = new StringBuilder();
        for (int m = 0; m < members.Count; m++)
        {
            var member = members[m].WithLeadingTrivia(members[m].GetLeadingTrivia().Where(t => !t.IsDirective));
            if (member is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } last } && m == members.Count - 1)
                cell.Append(last.GetLeadingTrivia().ToFullString()).Append($"Show({last.Expression.WithoutTrivia()});").Append(last.GetTrailingTrivia().ToFullString());
            // A script's `var x = …;` is a field and its functions are methods: in a file of top-level statements they
            // are locals and local functions, with the same text.
            else if (member is GlobalStatementSyntax or FieldDeclarationSyntax { Modifiers: [] or [{ RawKind: (int)SyntaxKind.ConstKeyword }] }
                     or MethodDeclarationSyntax { Modifiers: [] or [{ RawKind: (int)SyntaxKind.StaticKeyword }] })
                cell.Append(member.ToFullString());
            else if (member is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax)
                types.Add(member.ToFullString().Trim('\n'));
            else
                fail($"'{member.WithoutTrivia().ToString().Split('\n')[0]}' has no top-level-statement form");
        }
        // Blank lines that followed the cell's usings or #r lines are not the statements'.
        string text = System.Text.RegularExpressions.Regex.Replace(cell.ToString(), @"\A([ \t]*\n)+", "");
        body.Append(text);
        if (text.Length > 0 && text[^1] != '\n') body.Append('\n');
    }

    /// <summary>The kernel's <c>display(x)</c> is <c>NotebookApp.Show(x)</c> in the app.</summary>
    private sealed class DisplayToShow : CSharpSyntaxRewriter
    {
        public override SyntaxNode? VisitInvocationExpression(InvocationExpressionSyntax node)
        {
            var visited = (InvocationExpressionSyntax)base.VisitInvocationExpression(node)!;
            return visited.Expression is IdentifierNameSyntax { Identifier.ValueText: "display" } id
                ? visited.WithExpression(id.WithIdentifier(SyntaxFactory.Identifier(id.Identifier.LeadingTrivia, "Show", id.Identifier.TrailingTrivia)))
                : visited;
        }
    }

    /// <summary>nbformat stores source as a string or a list of lines.</summary>
    private static string Source(JsonNode? node) => node switch
    {
        JsonArray a => string.Concat(a.Select(x => (string?)x)),
        JsonValue v => (string?)v ?? "",
        _ => "",
    };
}
