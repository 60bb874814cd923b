using System.Diagnostics;
using Era.Handouts;

namespace Era.Tests.Handouts;

/// <summary>`era handouts` after a run that was killed: its temporary folders are removed, and a swap stopped between
/// its two renames (the target moved aside, the new folder not yet in place) is finished or undone.</summary>
public sealed class HandoutsRecoveryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("era-handouts-recover-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Out => Path.Combine(_root, "h");

    /// <summary>The id of a process that has ended.</summary>
    private static int DeadPid()
    {
        using var p = Process.Start("true")!;
        p.WaitForExit();
        return p.Id;
    }

    /// <summary>A folder as a killed run leaves it: .h.PID.GUID.tmp or .old, holding one file (and the marker).</summary>
    private string Left(int pid, string suffix, string file, bool complete)
    {
        string dir = Directory.CreateDirectory(Path.Combine(_root, $".h.{pid}.{Guid.NewGuid():N}.{suffix}")).FullName;
        File.WriteAllText(Path.Combine(dir, file), file);
        if (complete) File.WriteAllText(Path.Combine(dir, Era.Handouts.Handouts.Marker), "");
        return dir;
    }

    private HandoutsResult Write(NotebookExecutor? execute = null) =>
        Era.Handouts.Handouts.Write(new HandoutsOptions { NotebooksDirectory = HandoutsFixture.Notebooks, OutputDirectory = Out, Execute = execute });

    private static string Fail(string _) => throw new HandoutException("the notebooks failed");

    [Fact]
    public void StaleTemporaryFoldersAreRemovedAndOthersKept()
    {
        int dead = DeadPid();
        Left(dead, "tmp", "a.html", complete: false);
        Left(dead, "tmp", "b.html", complete: true);
        string running = Left(Environment.ProcessId, "tmp", "c.html", complete: false);   // a run in progress: not ours to remove
        string other = Directory.CreateDirectory(Path.Combine(_root, ".other.1.tmp")).FullName;
        Write();
        Assert.Equal(new[] { Out, other, running }.Order(StringComparer.Ordinal), Directory.GetDirectories(_root).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ASwapStoppedBeforeTheNewFolderWasCompleteIsUndone()
    {
        int dead = DeadPid();
        Left(dead, "old", "old.html", complete: true);
        Left(dead, "tmp", "half.html", complete: false);
        Assert.Throws<HandoutException>(() => Write(Fail));   // this run fails: the old handouts must be back
        Assert.Equal([Out], Directory.GetDirectories(_root));
        Assert.Equal("old.html", File.ReadAllText(Path.Combine(Out, "old.html")));
    }

    [Fact]
    public void ASwapStoppedAfterTheNewFolderWasCompleteIsFinished()
    {
        int dead = DeadPid();
        Left(dead, "old", "old.html", complete: true);
        Left(dead, "tmp", "new.html", complete: true);
        Assert.Throws<HandoutException>(() => Write(Fail));
        Assert.Equal([Out], Directory.GetDirectories(_root));
        Assert.Equal([Era.Handouts.Handouts.Marker, "new.html"], Directory.GetFiles(Out).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
