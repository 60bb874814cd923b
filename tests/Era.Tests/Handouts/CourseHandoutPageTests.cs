using Era.Figures;
using Era.Handouts;
using Era.Tests.Figures;
using Era.Tests.Notebooks;
using PuppeteerSharp;

namespace Era.Tests.Handouts;

/// <summary>The handouts of the course's own committed notebooks (not fixtures), written once for these tests.</summary>
public sealed class CourseHandoutsFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("era-course-handouts-").FullName;

    public string Out => Path.Combine(Root, "handouts");

    private readonly ChromiumRenderer _chromium;

    public IBrowser Browser => _chromium.Browser;

    public CourseHandoutsFixture()
    {
        Era.Handouts.Handouts.Write(new HandoutsOptions { NotebooksDirectory = Repo.NotebooksDir, OutputDirectory = Out });
        _chromium = ChromiumRenderer.Start(new ChromiumOptions { StartTimeout = TimeSpan.FromSeconds(60) });
    }

    public void Dispose()
    {
        _chromium.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>
/// Each page staff hand out for the real course, as a student's browser shows it: offline (every request beyond the
/// page itself is blocked and counted), no console error, every formula typeset, every figure drawn, not blank.
/// </summary>
[Collection("Chromium")]
public class CourseHandoutPageTests(CourseHandoutsFixture handouts) : IClassFixture<CourseHandoutsFixture>
{
    public static TheoryData<string> Pages()
    {
        var data = new TheoryData<string> { "index.html", "check-your-sheet.html", Era.Handouts.Playground.PageName };
        foreach (var nb in Repo.Notebooks) data.Add(Path.GetFileNameWithoutExtension(nb) + ".html");
        return data;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task EveryCoursePageLoadsOfflineWithMathAndFiguresDrawn(string file)
    {
        string path = Path.Combine(handouts.Out, file);
        var (page, errors, _, blocked) = await HandoutPageTests.OpenAsync(handouts.Browser, path);
        await using var _ = page;
        await HandoutPageTests.WaitReadyAsync(page);

        Assert.Empty(blocked);
        Assert.Empty(errors);
        int math = await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.math').length");
        Assert.Equal(math, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.math > .katex, .math > .katex-display').length"));
        Assert.Equal(0, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.katex-error').length"));
        int figures = await page.EvaluateExpressionAsync<int>("document.querySelectorAll('figure.figure').length");
        Assert.Equal(figures, await page.EvaluateExpressionAsync<int>("Array.from(document.querySelectorAll('figure.figure'), f => f.querySelector('.interactive svg.main-svg')).filter(s => s).length"));
        if (file.StartsWith("01-", StringComparison.Ordinal) || file.StartsWith("03-", StringComparison.Ordinal) || file.StartsWith("04-", StringComparison.Ordinal) || file == Era.Handouts.Playground.PageName)
        {
            Assert.True(figures > 0, $"{file}: no figure");
            Assert.True(math > 0, $"{file}: no math");
        }
        var png = Png.Decode(await page.ScreenshotDataAsync(new ScreenshotOptions { Type = ScreenshotType.Png }));
        Assert.True(png.BrightnessVariance() > 100, $"{file}: brightness variance {png.BrightnessVariance():0.0}: blank?");
    }

    [Fact]
    public async Task EachIndexSummaryIsWholeSentences()
    {
        var (page, errors, _, _) = await HandoutPageTests.OpenAsync(handouts.Browser, Path.Combine(handouts.Out, "index.html"));
        await using var _ = page;
        await HandoutPageTests.WaitReadyAsync(page);
        // What a student reads under each notebook's title: the entry's text without the title link, typeset.
        var summaries = await page.EvaluateExpressionAsync<string[]>("""
            Array.from(document.querySelectorAll('ol.course > li'), li => {
              const text = li.innerText, title = li.querySelector('a').innerText;
              return text.slice(text.indexOf(title) + title.length).trim();
            })
            """);
        Assert.Equal(Repo.Notebooks.Length, summaries.Length);
        Assert.All(summaries, s =>
        {
            Assert.True(s.Length > 80, $"summary too short to say what the notebook teaches: \"{s}\"");
            Assert.True(s.TrimEnd(')', '"', '\u201d')[^1] is '.' or '!' or '?', $"summary stops mid-sentence: \"…{s[Math.Max(0, s.Length - 60)..]}\"");
        });
        // The notebooks' opening paragraphs lead into a list ("You will"): the list is part of the summary.
        Assert.All(summaries, s => Assert.DoesNotMatch(@"You will\s*$", s));
        Assert.Equal(Repo.Notebooks.Length, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('ol.course > li ol').length"));
        Assert.Empty(errors);
    }

    /// <summary>
    /// On a phone (390 CSS pixels wide): the page itself never scrolls sideways, and whatever is wider than the screen
    /// (a table, code, a figure, display math) sits in a box of its own that scrolls, itself within the screen.
    /// </summary>
    [Theory]
    [MemberData(nameof(Pages))]
    public async Task EveryCoursePageReadsOnAPhone(string file)
    {
        var (page, errors, _, _) = await HandoutPageTests.OpenAsync(handouts.Browser, Path.Combine(handouts.Out, file));
        await using var _ = page;
        await page.SetViewportAsync(new ViewPortOptions { Width = PhoneWidth, Height = 844, DeviceScaleFactor = 1, IsMobile = true, HasTouch = true });
        await HandoutPageTests.WaitReadyAsync(page);
        string[] outside = await page.EvaluateExpressionAsync<string[]>(OutsideTheScreen);
        Assert.True(outside.Length == 0, $"{file} at {PhoneWidth} px: {outside.Length} elements reach past the screen: {string.Join("; ", outside.Take(8))}");
        // A phone browser widens the layout to the widest content: it stays at the screen's width.
        Assert.Equal(PhoneWidth, await page.EvaluateExpressionAsync<int>("window.innerWidth"));
        Assert.Equal(PhoneWidth, await page.EvaluateExpressionAsync<int>("document.documentElement.clientWidth"));
        Assert.Equal(PhoneWidth, await page.EvaluateExpressionAsync<int>("document.documentElement.scrollWidth"));
        Assert.Empty(errors);
    }

    private const int PhoneWidth = 390;

    // Each element whose box ends right of the screen, unless an ancestor that scrolls sideways (overflow-x auto or
    // scroll) holds it and itself ends within the screen; named by tag, class, its ancestors and the start of its
    // text. Not counted: what KaTeX draws past a box that clips it (overflow hidden: the tail of a square root's
    // stroke) and its MathML copy of each formula, for screen readers, clipped to nothing. The page itself (body)
    // may not clip.
    private static readonly string OutsideTheScreen = $$"""
        (() => {
          const w = {{PhoneWidth}} + 0.5;
          const scrolls = e => e !== document.body && /(auto|scroll|hidden|clip)/.test(getComputedStyle(e).overflowX);
          const name = e => e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\s+/).join('.') : '');
          const held = e => { for (let a = e.parentElement; a; a = a.parentElement) if (scrolls(a) && a.getBoundingClientRect().right <= w) return true; return false; };
          return Array.from(document.body.querySelectorAll('*'))
            .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w && !e.closest('.katex-mathml') && !held(e); })
            .map(e => `${name(e)} in ${[1, 2, 3, 4, 5, 6].map(n => { let a = e; for (let i = 0; i < n && a; i++) a = a.parentElement; return a ? name(a) : ''; }).join(' < ')}, right ${Math.round(e.getBoundingClientRect().right)}: ${(e.textContent || '').trim().slice(0, 40)}`);
        })()
        """;

    /// <summary>A page shows neither the kernel's loader chatter nor a path of the machine that ran the notebooks
    /// (it shows what the committed notebooks hold: this passes once they are executed by the current runner).</summary>
    [Theory]
    [MemberData(nameof(Pages))]
    public async Task NoPageShowsAMachinePathOrKernelChatter(string file)
    {
        var (page, _, _, _) = await HandoutPageTests.OpenAsync(handouts.Browser, Path.Combine(handouts.Out, file));
        await using var _ = page;
        await HandoutPageTests.WaitReadyAsync(page);
        var found = MachineText.Find(await page.EvaluateExpressionAsync<string>("document.body.innerText")).ToList();
        Assert.True(found.Count == 0, $"{file}: {string.Join("; ", found)}");
    }
}
