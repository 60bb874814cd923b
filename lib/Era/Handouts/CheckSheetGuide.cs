namespace Era.Handouts;

/// <summary>The one-page guide to `era check-sheet` that goes with the handouts (rendered like a notebook's markdown).</summary>
public static class CheckSheetGuide
{
    public const string Markdown = """
        # Check your own spreadsheet

        You built the 2-2-2 network's iteration table yourself, in Excel or LibreOffice: one row per iteration, the
        forward pass, $E_{total}$, the eight gradients and the updated weights. `era check-sheet` recomputes every cell
        of it and tells you which ones are wrong, and what they should hold.

        ## 1. Save your table

        Save the workbook as `.xlsx` (Excel, LibreOffice *File → Save As → Excel 2007-365*). Keep a header row above the
        table that names the columns the usual way — `t1`, `out_h1` or `a_h1`, `E_total`, `dE/dw1` or `∂E_total/∂w1` —
        in any order and from any cell. Put the learning rate in a labelled cell (`η`, `eta`, `LR`, `learning rate`);
        otherwise it is read off your updates.

        ## 2. Run the check

        ```sh
        ./era check-sheet my-backprop.xlsx                 # a verdict you can read
        ./era check-sheet my-backprop.xlsx --sheet Table   # if the table is not on the sheet it finds
        ./era check-sheet my-backprop.xlsx --json          # the same, for a program
        ```

        Each row is checked against its own values, and each weight against the row above it, to $10^{-9}$ relative.

        ## 3. Read the verdict

        Every finding names the cell (`S2`), the column, the value found, the value expected, and the formula that cell
        should hold in *your* layout, e.g. `=O2*J2+P2*L2`. There are three kinds:

        | kind | what it means | what to fix |
        | --- | --- | --- |
        | `column` | the column is wrong from its first row | the formula you filled down |
        | `from-row` | right up to some row, wrong from there on | usually the weight update, $w^{+} = w - \eta\,\partial E_{total}/\partial w$ |
        | `cell` | one cell alone | a typing slip in that cell |

        Cells that are wrong only because they use a wrong value are not blamed: fix the first finding and check again.
        For example, the gradient of $w_5$ is
        $$\frac{\partial E_{total}}{\partial w_5} = (a_{o1} - t_1)\,a_{o1}\,(1 - a_{o1})\,a_{h1}$$
        and a sheet that forgets the factor $a_{o1}(1 - a_{o1})$ gets a `column` finding for that column.

        The exit status says the same for scripts: `0` all correct, `1` findings, `2` the file could not be read or holds
        no table. Your file is only read: no formula in it is run, no link followed, nothing written. Files saved without
        values (some online editors) are refused: open the file, let it recalculate, and save it again.

        To compare with a correct table, open `backprop.xlsx` from the handouts: the same network, every cell a formula.
        """;
}
