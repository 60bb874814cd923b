using System.Diagnostics;
using Microsoft.AspNetCore.Html;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace Era.Notebooks;

/// <summary>
/// One output that changes in place, for progress: <c>var live = LiveDisplay.Start("starting…");</c> then
/// <c>live.Update(html)</c> as often as you like — it redraws at most every <see cref="Interval"/> (a thousand
/// batches make a few dozen redraws, not a thousand lines), and <c>live.Update(html, force: true)</c> always draws.
/// Outside a notebook (a test, a script) it does nothing.
/// </summary>
public sealed class LiveDisplay
{
    private readonly DisplayedValue? _shown;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastDraw;

    private LiveDisplay(DisplayedValue? shown) => _shown = shown;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>The HTML shown last (also when not in a notebook).</summary>
    public string Current { get; private set; } = "";

    public static LiveDisplay Start(string html)
    {
        var shown = KernelInvocationContext.Current is null ? null : html.DisplayAs("text/html");
        return new LiveDisplay(shown) { Current = html };
    }

    public void Update(string html, bool force = false)
    {
        Current = html;
        if (!force && _lastDraw is { } last && _clock.Elapsed - last < Interval) return;
        _lastDraw = _clock.Elapsed;
        _shown?.Update(new HtmlString(html));
    }
}
