using Era.Backprop;
using Era.Excel.Checking;

namespace Era.Tests.Excel.Checking;

/// <summary>Verdicts on student-style workbooks: correct ones in several layouts, and ones with planted mistakes.</summary>
public class CheckerTests
{
    private const int N = 60;
    private static readonly NetworkConfig Classic = NetworkConfig.Classic;

    // The course layout from A1: t1 t2 i1 i2 w1..w4 h1 a_h1 h2 a_h2 w5..w8 o1 a_o1 o2 a_o2 E1 E2 E_tot dE/dw1..8,
    // i.e. columns A..AE; η's label in AG1 and its value in AH1.
    private static StudentWorkbook CourseLayout(List<Dictionary<string, double>> rows, double lr = 0.5) => new()
    {
        Rows = rows,
        LearningRate = lr,
        Eta = new EtaLabel("η", Row: 1, Col: 33),
    };

    private static CheckReport Check(StudentWorkbook book, string? sheet = null) => SheetChecker.Check(book.Build(), sheet);

    [Fact]
    public void CorrectTableInTheCourseLayoutIsOk()
    {
        var book = CourseLayout(StudentTables.Correct(Classic, N));
        var report = Check(book);
        Assert.True(report.Ok, report.ToText());
        Assert.Equal("Sheet1", report.Sheet);
        Assert.Equal("A1:AE61", report.Table);
        Assert.Equal(N, report.Rows);
        Assert.Equal(0.5, report.LearningRate);
        Assert.Equal("cell AH1", report.LearningRateSource);
        Assert.Empty(report.MissingColumns);
        Assert.Equal(31, report.CheckedColumns.Count); // 33 course columns but b1, b2
    }

    [Fact]
    public void TheStudentSimulationAgreesWithTheNumericCore()
    {
        // The planted-error tests rely on the simulation; without a plant it must be the core's table.
        var core = StudentTables.Correct(NetworkConfig.Era with { B1 = 0.35, B2 = 0.6 }, 30);
        var sim = StudentTables.Simulate(NetworkConfig.Era with { B1 = 0.35, B2 = 0.6 }, 30);
        for (int i = 0; i < core.Count; i++)
            foreach (var (name, v) in core[i])
                Assert.True(Math.Abs(sim[i][name] - v) <= 1e-12 * Math.Max(1, Math.Abs(v)), $"{name}[{i}]: {sim[i][name]} vs {v}");
    }

    public static TheoryData<string> Layouts => ["offset-shuffled-spelled", "formulas-front-sheet", "inline-strings-no-label", "biases-era", "missing-columns"];

    [Theory]
    [MemberData(nameof(Layouts))]
    public void CorrectTablesInOtherLayoutsAreOk(string layout)
    {
        var book = Layout(layout, planted: false);
        var report = Check(book);
        Assert.True(report.Ok, report.ToText());
        Assert.Equal(book.LearningRate, report.LearningRate!.Value, 12);
        Assert.Equal(book.Rows.Count, report.Rows);
        if (layout == "missing-columns") Assert.Equal(["a_h2", "a_o1", "E1", "E2"], report.MissingColumns);
        if (layout == "inline-strings-no-label") Assert.Equal("inferred from the weight updates", report.LearningRateSource);
        if (layout == "formulas-front-sheet") Assert.Equal("cell 'Front'!B4", report.LearningRateSource);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void APlantedFormulaErrorIsFoundInEveryLayout(string layout)
    {
        // o2 = w7·a_h1 + w8·a_h1: a_h1 used where a_h2 belongs, in every row. Everything after o2 builds on it.
        var book = Layout(layout, planted: true);
        var report = Check(book);
        var f = Assert.Single(report.Findings);
        Assert.Equal(("o2", FindingKind.Column, book.Cell(0, "o2")), (f.Column, f.Kind, f.Cell));
        Assert.Equal(book.Rows.Count, f.Count);
        Assert.Equal(book.Cell(book.Rows.Count - 1, "o2"), f.LastCell);
        Assert.Equal(book.Rows[0]["o2"], f.Found);
        var r = book.Rows[0];
        Assert.Equal(r["w7"] * r["a_h1"] + r["w8"] * Sigmoid(r["h2"]) + r.GetValueOrDefault("b2"), f.Expected!.Value, 14);
        Assert.Equal(book.Cell(0, "o2"), report.FirstWrongCell);
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static StudentWorkbook Layout(string layout, bool planted)
    {
        var config = layout == "biases-era" ? NetworkConfig.Era with { B1 = 0.35, B2 = 0.6, LearningRate = 0.8 } : Classic;
        var rows = StudentTables.Simulate(config, N, planted
            ? (_, name, r, _) => name == "o2" ? r["w7"] * r["a_h1"] + r["w8"] * r["a_h1"] + config.B2 : null
            : null);
        var order = rows[0].Keys.ToList();
        switch (layout)
        {
            case "offset-shuffled-spelled":
                var rng = new Random(7);
                return new StudentWorkbook
                {
                    Rows = rows,
                    LearningRate = 0.5,
                    HeaderRow = 4,
                    FirstCol = 3,
                    Order = order.OrderBy(_ => rng.Next()).ToList(),
                    Header = n => n switch
                    {
                        "a_h1" => "out_h1",
                        "a_h2" => "a_{h2}",
                        "h1" => "net_h1",
                        "h2" => "net h2",
                        "a_o1" => "out_o1",
                        "a_o2" => "ao2",
                        "E_tot" => "E_total",
                        "E1" => "E_o1",
                        "t1" => "T1",
                        "dE/dw1" => "∂E_total/∂w1",
                        "dE/dw2" => "dEtot/dw2",
                        "dE/dw3" => "∂E/∂w₃",
                        "dE/dw4" => "dE_total / dw4",
                        "w5" => "W5",
                        _ => n,
                    },
                    Eta = new EtaLabel("learning rate", Row: 1, Col: 1),
                    Extra = new Dictionary<(int, int), XCell> { [(2, 3)] = new XText("My backprop table, iteration by iteration") },
                };
            case "formulas-front-sheet":
                return new StudentWorkbook
                {
                    Rows = rows,
                    LearningRate = 0.5,
                    SheetName = "Table",
                    HeaderRow = 3,
                    FirstCol = 2,
                    Formulas = true,
                    Header = n => n.Replace("dE/dw", "∂E/∂w", StringComparison.Ordinal).Replace("E_tot", "Etotal", StringComparison.Ordinal),
                    Eta = new EtaLabel("Learning rate (η)", Below: true, OnSheet: "Front", Row: 3, Col: 2),
                };
            case "inline-strings-no-label":
                return new StudentWorkbook { Rows = rows, LearningRate = 0.5, SharedStrings = false, HeaderRow = 2, FirstCol = 2 };
            case "biases-era":
                return new StudentWorkbook { Rows = rows, LearningRate = 0.8, Eta = new EtaLabel("alpha", Row: 1, Col: 40) };
            case "missing-columns":
                return new StudentWorkbook
                {
                    Rows = rows,
                    LearningRate = 0.5,
                    Eta = new EtaLabel("eta", Row: 1, Col: 40),
                    Formulas = true,
                    Order = order.Where(n => n is not ("a_h2" or "a_o1" or "E1" or "E2")).ToList(),
                };
            default: throw new ArgumentException(layout);
        }
    }

    [Fact]
    public void TheFormulaToWriteIsInTheSheetsOwnLayout()
    {
        var rows = StudentTables.Simulate(Classic, N, (_, name, r, _) => name == "o2" ? r["w7"] * r["a_h1"] + r["w8"] * r["a_h1"] : null);
        var f = Assert.Single(Check(CourseLayout(rows)).Findings);
        // Written by hand from the course layout: w7 = O, a_h2 = L, w8 = P, a_h1 = J; row 2 is the first data row.
        Assert.Equal("=O2*J2+P2*L2", f.Formula);
        Assert.Equal("S2", f.Cell);
    }

    [Fact]
    public void ABrokenUpdateFromRow40OnIsOneFindingAtItsFirstCell()
    {
        // From the 40th iteration on, w6 is updated with ∂E/∂w5 instead of ∂E/∂w6 (a copy-down slip).
        var rows = StudentTables.Simulate(Classic, N, (i, name, _, prev) =>
            i >= 39 && name == "w6" ? prev!["w6"] - 0.5 * prev["dE/dw5"] : null);
        var book = CourseLayout(rows);
        var report = Check(book);
        var f = Assert.Single(report.Findings);
        Assert.Equal(("w6", FindingKind.FromRow, "N41", 41), (f.Column, f.Kind, f.Cell, f.Row));
        Assert.Equal((N - 39, "N61"), (f.Count, f.LastCell));
        // w6 = N, ∂E/∂w6 = AC, η in AH1; the update reads the row above.
        Assert.Equal("=N40-$AH$1*AC40", f.Formula);
        Assert.Equal(rows[38]["w6"] - 0.5 * rows[38]["dE/dw6"], f.Expected!.Value, 15);
        Assert.Equal("N41", report.FirstWrongCell);
        Assert.Empty(report.Notes);

        // Without a label, η is inferred from the updates all the same (most rows and most weights are right).
        report = Check(book with { Eta = null });
        Assert.Equal(0.5, report.LearningRate);
        f = Assert.Single(report.Findings);
        Assert.Equal(("N41", "=N40-0.5*AC40"), (f.Cell, f.Formula));
    }

    [Fact]
    public void ASingleMistypedCellIsACellFindingAndItsConsequencesAreNotBlamed()
    {
        // a_h1 of the 17th iteration typed as 0.5933 over its formula; the rest of the live sheet builds on it.
        var rows = StudentTables.Simulate(Classic, N, (i, name, _, _) => i == 16 && name == "a_h1" ? 0.5933 : null);
        var report = Check(CourseLayout(rows));
        var f = Assert.Single(report.Findings);
        Assert.Equal(("a_h1", FindingKind.Cell, "J18", 1), (f.Column, f.Kind, f.Cell, f.Count));
        Assert.Equal(0.5933, f.Found);
        Assert.Equal(Sigmoid(rows[16]["h1"]), f.Expected!.Value, 15);
        Assert.Equal("=1/(1+EXP(-I18))", f.Formula);
    }

    [Theory]
    [InlineData(-0.5)] // w + 0.5·∂E/∂w: every step uphill
    [InlineData(0.0)] // w − 0·∂E/∂w, or =E2: the weights never change
    public void UpdatesThatDoNotStepDownhillAreFoundWithoutAnEtaLabel(double step)
    {
        // η typed into the formulas rather than a labelled cell, so the checker can only read it off the updates.
        var rows = StudentTables.Simulate(Classic, N, (_, name, _, prev) =>
            prev is not null && name is ['w', var k] ? prev[name] - step * prev[$"dE/dw{k}"] : null);
        var book = new StudentWorkbook { Rows = rows, LearningRate = 0.5 };
        var report = Check(book);
        Assert.False(report.Ok, report.ToText());
        Assert.Null(report.LearningRate);
        // One finding per weight column, from the first update (the second data row) to the last.
        Assert.Equal(["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"], report.Findings.Select(f => f.Column));
        foreach (var f in report.Findings)
        {
            Assert.Equal((book.Cell(1, f.Column), N - 1, book.Cell(N - 1, f.Column)), (f.Cell, f.Count, f.LastCell));
            Assert.Equal(rows[1][f.Column], f.Found);
            Assert.Equal($"={book.Cell(0, f.Column)}-η*{book.Cell(0, "dE/dw" + f.Column[1])}", f.Formula);
        }
        Assert.Contains(step == 0 ? "does not change" : "uphill", report.ToText(), StringComparison.Ordinal);

        // The same sheet with the right update, η = 0.5 in the formulas: correct, and η read off the updates.
        var right = StudentTables.Simulate(Classic, N, (_, name, _, prev) =>
            prev is not null && name is ['w', var k] ? prev[name] - 0.5 * prev[$"dE/dw{k}"] : null);
        report = Check(book with { Rows = right });
        Assert.True(report.Ok, report.ToText());
        Assert.Equal(0.5, report.LearningRate);
    }

    [Fact]
    public void SeveralMistakesAreOrderedByRowThenColumn()
    {
        var rows = StudentTables.Simulate(Classic, N, (i, name, r, prev) => (i, name) switch
        {
            (_, "o2") => r["w7"] * r["a_h1"] + r["w8"] * r["a_h1"],
            (16, "a_h1") => 0.5933,
            (16, "E1") => 0.25,
            ( >= 39, "w6") => prev!["w6"] - 0.5 * prev["dE/dw5"],
            _ => null,
        });
        var report = Check(CourseLayout(rows));
        Assert.Equal(["S2", "J18", "U18", "N41"], report.Findings.Select(f => f.Cell));
        Assert.Equal([FindingKind.Column, FindingKind.Cell, FindingKind.Cell, FindingKind.FromRow], report.Findings.Select(f => f.Kind));
        Assert.Equal("S2", report.FirstWrongCell);
        Assert.Equal(N + 1 + 1 + (N - 39), report.WrongCells);
        Assert.Empty(report.Notes);
    }

    [Fact]
    public void AnUpdateThatIgnoresTheLabelledLearningRateFlagsEveryWeightColumn()
    {
        // The sheet says η = 0.6 in AH1, but the updates were computed with 0.5 (a hard-coded constant).
        var book = CourseLayout(StudentTables.Correct(Classic, N), lr: 0.6);
        var report = Check(book);
        Assert.Equal(8, report.Findings.Count);
        Assert.All(report.Findings, f => Assert.Equal((FindingKind.Column, 3), (f.Kind, f.Row)));
        Assert.Equal(Weights.Names, report.Findings.Select(f => f.Column));
        Assert.Contains(report.Notes, n => n.Contains("η = 0.5", StringComparison.Ordinal) && n.Contains("AH1", StringComparison.Ordinal));
    }

    [Fact]
    public void ADisagreeingLabelOnAnotherSheetGivesWayToTheUpdates()
    {
        // A "Rates" sheet compares learning rates ("η" | 0.1); the table's own updates use 0.5.
        var book = CourseLayout(StudentTables.Correct(Classic, N), lr: 0.1) with { Eta = new EtaLabel("η", OnSheet: "Rates", Row: 1, Col: 1) };
        var report = Check(book);
        Assert.True(report.Ok, report.ToText());
        Assert.Equal((0.5, "inferred from the weight updates"), (report.LearningRate!.Value, report.LearningRateSource));
        Assert.Contains(report.Notes, n => n.Contains("'Rates'!B1", StringComparison.Ordinal));
        // Where it agrees, the label is used and referred to across sheets.
        report = Check(book with { LearningRate = 0.5 });
        Assert.Equal("cell 'Rates'!B1", report.LearningRateSource);
    }

    [Fact]
    public void TextInANumberCellIsReportedOnceNotDownstream()
    {
        var book = CourseLayout(StudentTables.Correct(Classic, N)) with
        {
            Overrides = new Dictionary<(int, string), XCell> { [(4, "h2")] = new XText("#DIV/0!") },
        };
        var report = Check(book);
        var f = Assert.Single(report.Findings);
        Assert.Equal(("K6", "#DIV/0!", FindingKind.Cell), (f.Cell, f.FoundText, f.Kind));
        Assert.Null(f.Found);
    }

    public static TheoryData<string, bool> EtaLabels => new()
    {
        { "η", false }, { "eta", true }, { "LR", false }, { "learning rate", true }, { "alpha", false },
        { "α", false }, { "Learning rate (η)", true }, { "η =", false }, { "Eta:", false },
    };

    [Theory]
    [MemberData(nameof(EtaLabels))]
    public void TheLearningRateIsReadFromItsLabelledCell(string label, bool below)
    {
        var book = CourseLayout(StudentTables.Correct(Classic with { LearningRate = 0.8 }, 20), lr: 0.8) with
        {
            Eta = new EtaLabel(label, below, Row: 3, Col: 34),
        };
        var report = Check(book);
        Assert.True(report.Ok, report.ToText());
        Assert.Equal(0.8, report.LearningRate);
        Assert.Equal(below ? "cell AH4" : "cell AI3", report.LearningRateSource);
    }

    [Fact]
    public void TheLearningRateInsideTheLabelTextIsRead()
    {
        var book = CourseLayout(StudentTables.Correct(Classic with { LearningRate = 0.2 }, 20), lr: 0.2) with { Eta = null };
        book = book with { Extra = new Dictionary<(int, int), XCell> { [(1, 33)] = new XText("η = 0.2") } };
        var report = Check(book);
        Assert.True(report.Ok, report.ToText());
        Assert.Equal((0.2, "cell AG1"), (report.LearningRate!.Value, report.LearningRateSource));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.2)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void WithoutALabelTheLearningRateIsInferredFromTheUpdates(double lr)
    {
        var book = new StudentWorkbook { Rows = StudentTables.Correct(NetworkConfig.Era with { LearningRate = lr }, 40), LearningRate = lr };
        var report = Check(book);
        Assert.True(report.Ok, report.ToText());
        Assert.Equal(lr, report.LearningRate); // inferred to the last bit after rounding to 12 digits
    }

    [Fact]
    public void InputsAndTargetsMayBeLabelledCellsInsteadOfColumns()
    {
        var rows = StudentTables.Correct(Classic, 20);
        var book = CourseLayout(rows) with
        {
            HeaderRow = 6,
            Order = rows[0].Keys.Where(n => n is not ("t1" or "t2" or "i1" or "i2")).ToList(),
            Extra = new Dictionary<(int, int), XCell>
            {
                [(1, 1)] = new XText("i1"),
                [(1, 2)] = new XNumber(0.05),
                [(2, 1)] = new XText("i2"),
                [(2, 2)] = new XNumber(0.1),
                [(3, 1)] = new XText("target 1"),
                [(3, 2)] = new XNumber(0.01),
                [(4, 1)] = new XText("target 2"),
                [(4, 2)] = new XNumber(0.99),
            },
        };
        var report = Check(book);
        Assert.True(report.Ok, report.ToText());
        // h1 = w1·i1 + w2·i2 refers to the labelled cells: w1 = A, w2 = B; $B$1 holds i1.
        var broken = book with { Rows = StudentTables.Simulate(Classic, 20, (i, name, _, _) => i == 0 && name == "h1" ? 1 : null) };
        var f = Assert.Single(Check(broken).Findings);
        Assert.Equal(("E7", "=A7*$B$1+B7*$B$2"), (f.Cell, f.Formula));
    }

    [Fact]
    public void BiasesMayBeLabelledCellsBesideTheTable()
    {
        var config = Classic with { B1 = 0.35, B2 = 0.6 };
        var extra = new Dictionary<(int, int), XCell>
        {
            [(3, 33)] = new XText("b1"),
            [(3, 34)] = new XNumber(0.35),
            [(4, 33)] = new XText("b2"),
            [(4, 34)] = new XNumber(0.6),
        };
        var rows = StudentTables.Correct(config, 20);
        var book = CourseLayout(rows) with { Order = rows[0].Keys.Where(n => n is not ("b1" or "b2")).ToList(), Extra = extra };
        var report = Check(book);
        Assert.True(report.Ok, report.ToText());
        // Without the labels the biases are taken as 0, and every pre-activation column is wrong.
        Assert.Equal(["h1", "h2", "o1", "o2"], Check(book with { Extra = new Dictionary<(int, int), XCell>() }).Findings.Select(f => f.Column));
        // h1 = w1·i1 + w2·i2 + b1 with b1 from its labelled cell: w1 = E, i1 = C, w2 = F, i2 = D, b1 in AH3.
        var broken = book with { Rows = StudentTables.Simulate(config, 20, (i, name, _, _) => i == 0 && name == "h1" ? 1 : null) };
        var f = Assert.Single(Check(broken).Findings);
        Assert.Equal(("I2", "=E2*C2+F2*D2+$AH$3"), (f.Cell, f.Formula));
    }

    [Fact]
    public void TheSheetOptionPicksTheSheetAndNamesTheSheetsWhenWrong()
    {
        var book = CourseLayout(StudentTables.Correct(Classic, 10)) with { SheetName = "Mine" };
        Assert.True(Check(book, "mine").Ok);
        var e = Assert.Throws<SheetCheckException>(() => Check(book, "Other"));
        Assert.Contains("'Mine'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FormulasSavedWithoutValuesAreRefusedWithHowToFixThem()
    {
        var book = CourseLayout(StudentTables.Correct(Classic, 10)) with { Formulas = true, OmitCachedValues = true };
        var e = Assert.Throws<SheetCheckException>(() => Check(book));
        Assert.Contains("saved without calculating", e.Message, StringComparison.Ordinal);
        Assert.Contains("recalculate", e.Message, StringComparison.Ordinal);
        Assert.Contains("(first: I2)", e.Message, StringComparison.Ordinal); // t/i/w of row 2 are typed; h1 is the first formula
    }

    [Fact]
    public void ASheetWithoutATableIsRefused()
    {
        var book = new XlsxBuilder();
        book.Sheet("Notes")[(1, 1)] = new XText("w1");
        book.Sheet("Notes")[(2, 1)] = new XNumber(0.15);
        var e = Assert.Throws<SheetCheckException>(() => SheetChecker.Check(book.Build()));
        Assert.Contains("no iteration table", e.Message, StringComparison.Ordinal);
    }
}
