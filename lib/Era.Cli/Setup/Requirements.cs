namespace Era.Cli.Setup;

/// <summary>
/// What the course needs beyond the .NET 10 SDK, in one place: `./era setup` installs it, `.ci/run` calls `./era setup`,
/// and a test checks that the README and the dev container name the same packages.
/// </summary>
public static class Requirements
{
    /// <summary>Debian/Ubuntu packages and what each is for.</summary>
    public static readonly IReadOnlyList<(string Package, string Why)> AptPackages =
    [
        ("libreoffice-calc-nogui", "recalculates the workbooks headless (tests)"),
        ("chromium", "exports figures to PNG/SVG and loads the handout pages"),
        ("python3-torch", "PyTorch cross-checks of the training engine"),
        ("python3-numpy", "PyTorch cross-checks of the training engine"),
        ("jupyter-client", "runs the notebooks (with the .NET Interactive kernel)"),
        ("python3-nbclient", "executes notebooks headless"),
        ("jupyter-nbconvert", "converts executed notebooks"),
        ("binutils", "readelf, which the TorchSharp loader's tests check their ELF reading against"),
        ("poppler-utils", "pdftoppm, which renders LibreOffice's PDF of the workbook for the print test"),
    ];

    /// <summary>npm itself: installed from apt only when the machine has no npm (Node from nodesource ships its own,
    /// and Debian's npm package conflicts with it).</summary>
    public const string NpmAptPackage = "npm";

    /// <summary>The front-end packages (plotly.js), pinned by this lock file and installed with `npm ci`.</summary>
    public const string WebFolder = "lib/web";

    /// <summary>The local dotnet tool manifest (Microsoft.dotnet-interactive, the notebook kernel), restored with
    /// `dotnet tool restore`.</summary>
    public const string ToolManifest = "dotnet-tools.json";
}
