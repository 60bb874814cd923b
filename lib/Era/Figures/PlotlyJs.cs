namespace Era.Figures;

/// <summary>
/// Where plotly.js comes from. One pinned version everywhere: notebook outputs load it from the plotly CDN, handout
/// pages and image export use the local copy that <c>npm ci --prefix lib/web</c> installs from lib/web/package-lock.json
/// (a test checks the two versions agree). It is plotly.js's "cartesian" bundle — scatter, bar, heatmap and the other
/// x/y traces, everything these figures use — at 1.4 MB instead of the full bundle's 4.8 MB (maps, 3D): the browser
/// loads it in a third of the time, which is most of an image export's start-up.
/// </summary>
public static class PlotlyJs
{
    /// <summary>The plotly.js version pinned in lib/web/package.json.</summary>
    public const string Version = "3.7.0";

    /// <summary>The npm package (lib/web/package.json) and its script.</summary>
    public const string NpmPackage = "plotly.js-cartesian-dist-min";

    public const string ScriptName = "plotly-cartesian.min.js";

    /// <summary>The CDN address without ".js", as require.js wants it in <c>paths</c>.</summary>
    public static string CdnModule => $"https://cdn.plot.ly/plotly-cartesian-{Version}.min";

    public static string CdnUrl => CdnModule + ".js";

    /// <summary>Environment variable that points at a plotly.js script to use instead of lib/web's.</summary>
    public const string PathVariable = "ERA_PLOTLY_JS";

    /// <summary>The repository's lib/web folder, found by walking up from this assembly and from the working directory.</summary>
    public static string? FindWebFolder()
    {
        foreach (var start in new[] { Path.GetDirectoryName(typeof(PlotlyJs).Assembly.Location), AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string web = Path.Combine(dir.FullName, "lib", "web");
                if (File.Exists(Path.Combine(web, "package.json"))) return web;
            }
        }
        return null;
    }

    /// <summary>The local plotly.js script (from $ERA_PLOTLY_JS, else lib/web/node_modules); throws with the fix if it is missing.</summary>
    public static string LocalScriptPath()
    {
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } custom)
        {
            if (!File.Exists(custom)) throw new FigureRenderException($"{PathVariable} points to '{custom}', which does not exist");
            return Path.GetFullPath(custom);
        }
        string? web = FindWebFolder();
        string? script = web is null ? null : Path.Combine(web, "node_modules", NpmPackage, ScriptName);
        if (script is null || !File.Exists(script))
            throw new FigureRenderException(
                $"the local copy of plotly.js is missing ({script ?? $"lib/web/node_modules/{NpmPackage}/{ScriptName}"}): " +
                $"run `npm ci --prefix lib/web` in the repository, or set {PathVariable} to a plotly.js {Version} script");
        return script;
    }
}

/// <summary>A figure could not be rendered or exported: no browser, no plotly.js, a render error or a timeout.</summary>
public sealed class FigureRenderException(string message, Exception? inner = null) : Exception(message, inner);
