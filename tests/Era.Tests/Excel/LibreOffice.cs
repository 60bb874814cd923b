using System.Diagnostics;

namespace Era.Tests.Excel;

/// <summary>
/// Recalculates workbooks with LibreOffice Calc, headless: a real spreadsheet evaluates our formulas.
/// LibreOffice keeps the cached values of an .xlsx by default ("Recalculation on file load: never", and it ignores
/// calcPr fullCalcOnLoad), so each run uses a private profile whose settings say "always recalculate" for
/// Excel and ODF files. Converting to .xlsx then writes the freshly computed values (to 15 significant digits).
/// </summary>
public static class LibreOffice
{
    public const string InstallHint =
        "LibreOffice is needed to recalculate workbooks but `soffice` is not on PATH: "
        + "apt-get install libreoffice-calc-nogui (or run .ci/run, which installs it)";

    private const string RecalcAlways = """
        <?xml version="1.0" encoding="UTF-8"?>
        <oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
        <item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
        <item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
        </oor:items>
        """;

    /// <summary>The soffice executable; throws with an install hint when there is none (tests fail, never skip).</summary>
    public static string Executable() =>
        Find(Environment.GetEnvironmentVariable("PATH") ?? "") ?? throw new InvalidOperationException(InstallHint);

    /// <summary>soffice (or libreoffice) in the folders of <paramref name="searchPath"/>, or null.</summary>
    internal static string? Find(string searchPath) =>
        searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => new[] { Path.Combine(dir, "soffice"), Path.Combine(dir, "libreoffice") })
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Opens every workbook in one LibreOffice process, recalculates it fully and saves it as .xlsx into
    /// <paramref name="outDir"/> under the same file name; returns the new paths in the order given.
    /// </summary>
    public static IReadOnlyList<string> Recalculate(string outDir, params string[] workbooks) => Convert(outDir, "xlsx", workbooks);

    /// <summary>
    /// Opens every workbook in one LibreOffice process (recalculating it) and saves it in <paramref name="format"/>
    /// ("xlsx", or "fods": flat OpenDocument XML, which shows how LibreOffice itself understood the file, charts
    /// included) into <paramref name="outDir"/>; returns the new paths in the order given.
    /// </summary>
    public static IReadOnlyList<string> Convert(string outDir, string format, params string[] workbooks)
    {
        string soffice = Executable();
        Directory.CreateDirectory(outDir);
        var outputs = workbooks.Select(w => Path.Combine(outDir, Path.GetFileNameWithoutExtension(w) + "." + format)).ToList();
        foreach (var (input, output) in workbooks.Zip(outputs))
        {
            if (Path.GetFullPath(input) == Path.GetFullPath(output))
                throw new ArgumentException($"'{input}' would be overwritten: choose an output folder other than its own");
            File.Delete(output);
        }

        string profile = Path.Combine(Path.GetTempPath(), "era-lo-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(profile, "user"));
        File.WriteAllText(Path.Combine(profile, "user", "registrymodifications.xcu"), RecalcAlways);
        try
        {
            var start = new ProcessStartInfo(soffice)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string arg in new[] { "-env:UserInstallation=" + new Uri(profile).AbsoluteUri, "--headless", "--norestore", "--nologo",
                         "--convert-to", format, "--outdir", outDir })
                start.ArgumentList.Add(arg);
            foreach (string w in workbooks) start.ArgumentList.Add(Path.GetFullPath(w));

            using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + soffice);
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("LibreOffice did not finish converting within 3 minutes");
            }
            process.WaitForExit();
            var missing = outputs.Where(o => !File.Exists(o)).ToList();
            if (process.ExitCode != 0 || missing.Count > 0)
                throw new InvalidOperationException(
                    $"LibreOffice exited with {process.ExitCode} and did not write {string.Join(", ", missing)}:\n{stdout.Result}\n{stderr.Result}");
            return outputs;
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
