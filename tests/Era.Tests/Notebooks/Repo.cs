namespace Era.Tests.Notebooks;

/// <summary>The checkout the tests run from, and its notebooks.</summary>
internal static class Repo
{
    public static string Root { get; } = Era.Cli.Notebooks.NotebookRunner.RepositoryRoot(AppContext.BaseDirectory);

    public static string NotebooksDir => Path.Combine(Root, "notebooks");

    /// <summary>The course's notebooks, in order: 01-chain-rule … 05-torchsharp.</summary>
    public static string[] Notebooks => Directory.GetFiles(NotebooksDir, "*.ipynb").Order(StringComparer.Ordinal).ToArray();

    public static TheoryData<string> NotebookNames()
    {
        var data = new TheoryData<string>();
        foreach (var nb in Notebooks) data.Add(Path.GetFileName(nb));
        return data;
    }
}

/// <summary>Tests that start a real .NET Interactive kernel: one at a time (each kernel takes both cores while it starts).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelCollection
{
    public const string Name = "Notebook kernel";
}
