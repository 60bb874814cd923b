using Era.Excel;
using Era.Excel.Checking;

namespace Era.Tests.Excel.Checking;

public class CheckerHeaderTests
{
    [Theory]
    [InlineData("a_h1", "a_h1")]
    [InlineData("out_h1", "a_h1")]
    [InlineData("ah1", "a_h1")]
    [InlineData("a_{h1}", "a_h1")]
    [InlineData("A H1", "a_h1")]
    [InlineData("σ(h2)", "a_h2")]
    [InlineData("E_tot", "E_tot")]
    [InlineData("E_total", "E_tot")]
    [InlineData("Etotal", "E_tot")]
    [InlineData("E total", "E_tot")]
    [InlineData("∂E/∂w1", "dE/dw1")]
    [InlineData("dE/dw1", "dE/dw1")]
    [InlineData("dE_total/dw8", "dE/dw8")]
    [InlineData("∂E_total/∂w3", "dE/dw3")]
    [InlineData("dEtot/dw2", "dE/dw2")]
    [InlineData("∂E/∂w₅", "dE/dw5")]
    [InlineData("h1", "h1")]
    [InlineData("net_h1", "h1")]
    [InlineData("net o2", "o2")]
    [InlineData("out_o2", "a_o2")]
    [InlineData("E_o1", "E1")]
    [InlineData("E1", "E1")]
    [InlineData("W7", "w7")]
    [InlineData("target 2", "t2")]
    [InlineData("i2", "i2")]
    [InlineData("b1", "b1")]
    public void UsualSpellingsMapToTheCanonicalColumn(string header, string canonical) =>
        Assert.Equal(canonical, HeaderNames.Match(header));

    [Theory]
    [InlineData("w9")]
    [InlineData("h3")]
    [InlineData("iteration")]
    [InlineData("notes")]
    [InlineData("")]
    [InlineData("dE/dw0")]
    public void OtherTextsAreNoColumn(string header) => Assert.Null(HeaderNames.Match(header));

    [Fact]
    public void CanonicalNamesAreTheSharedTableColumns() =>
        Assert.Equal(
            ["t1", "t2", "i1", "i2", "b1", "b2", "w1", "w2", "w3", "w4", "h1", "a_h1", "h2", "a_h2", "w5", "w6", "w7", "w8",
             "o1", "a_o1", "o2", "a_o2", "E1", "E2", "E_tot", "dE/dw1", "dE/dw2", "dE/dw3", "dE/dw4", "dE/dw5", "dE/dw6", "dE/dw7", "dE/dw8"],
            HeaderNames.Canonical);

    [Theory]
    [InlineData(1, "A")]
    [InlineData(26, "Z")]
    [InlineData(27, "AA")]
    [InlineData(28, "AB")]
    [InlineData(52, "AZ")]
    [InlineData(703, "AAA")]
    [InlineData(16384, "XFD")]
    public void ColumnLetters(int col, string letters)
    {
        Assert.Equal(letters, A1.Column(col));
        Assert.True(A1.TryParse(letters + "11", out int r, out int c));
        Assert.Equal((11, col), (r, c));
    }

    [Theory]
    [InlineData("")]
    [InlineData("A")]
    [InlineData("11")]
    [InlineData("A0")]
    [InlineData("XFE1")]
    [InlineData("A1048577")]
    [InlineData("A1B")]
    public void BadAddressesDoNotParse(string text) => Assert.False(A1.TryParse(text, out _, out _));
}
