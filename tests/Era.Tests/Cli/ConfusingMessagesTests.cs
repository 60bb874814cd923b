using System.IO.Compression;
using Era.Tests.Engine;

namespace Era.Tests.Cli;

/// <summary>Lines that used to mislead (issue 20's "Confusing" list): each now says what is wrong and what to do.</summary>
[Collection(EngineCollection.Name)]   // one test sets MNIST_DIR, which train reads
public sealed class ConfusingMessagesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("era-confusing-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AnOpenDocumentSpreadsheetIsNamedWithHowToSaveItAsXlsx()
    {
        // What LibreOffice writes for .ods: the "mimetype" entry first, then the manifest and the content.
        string path = Path.Combine(_dir, "sheet.ods");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, text) in new[] { ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"), ("META-INF/manifest.xml", "<manifest/>"), ("content.xml", "<content/>") })
            {
                using var w = new StreamWriter(zip.CreateEntry(name).Open());
                w.Write(text);
            }
        }
        var (code, output, error) = CliRunner.Run("check-sheet", path);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal($"era: {path}: this is an OpenDocument file (.ods, LibreOffice's own format), not an Excel workbook: "
            + "open it in LibreOffice Calc and save it with File → Save As… → \"Excel 2007-365 (.xlsx)\"", error.Trim());
    }

    [Theory]
    [InlineData("excel", "1 to 10000")]
    [InlineData("plot lr", "1 to 100000")]
    [InlineData("backprop", "1 to 1000000")]
    public void IterationsHelpStatesTheVerbsOwnLimit(string verb, string range)
    {
        var (code, output, _) = CliRunner.Run([.. verb.Split(' '), "--help"]);
        Assert.Equal(0, code);
        string line = Assert.Single(output.Split('\n'), l => l.TrimStart().StartsWith("--iterations", StringComparison.Ordinal));
        Assert.Contains($"rows in the table, {range} (default", line);
    }

    [Fact]
    public void AnMnistDirWithoutTheFilesIsBlamedOnMnistDirNotOnData()
    {
        string? before = Environment.GetEnvironmentVariable("MNIST_DIR");
        Environment.SetEnvironmentVariable("MNIST_DIR", Path.Combine(_dir, "no-mnist"));
        try
        {
            var (code, _, error) = CliRunner.Run("train", "--epochs", "1");
            Assert.Equal(2, code);
            Assert.StartsWith($"era: MNIST_DIR: MNIST: MNIST_DIR {Path.Combine(_dir, "no-mnist")} lacks train-images-idx3-ubyte.gz", error);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MNIST_DIR", before);
        }
    }
}
