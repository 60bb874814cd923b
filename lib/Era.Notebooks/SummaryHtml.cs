using System.Globalization;
using System.Net;
using System.Text;
using Era.Engine;

namespace Era.Notebooks;

/// <summary>A model summary as an HTML table: one row per layer with its output shape, parameters, receptive field.</summary>
public static class SummaryHtml
{
    public static string Table(ModelSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var ci = CultureInfo.InvariantCulture;
        var html = new StringBuilder("<table>\n<thead><tr><th>Layer</th><th>Type</th><th>Output shape</th>"
            + "<th>Parameters</th><th>Receptive field</th><th>Jump</th><th>MACs / image</th></tr></thead>\n<tbody>\n");
        foreach (var r in s.Rows)
        {
            string shape = "[" + string.Join(", ", r.OutputShape.Select((d, i) => i == 0 ? "N" : d.ToString(ci))) + "]";
            html.Append(ci, $"<tr><td>{Enc(r.Name)}</td><td>{Enc(r.Type)}</td><td>{shape}</td>"
                + $"<td style=\"text-align:right\">{r.Parameters:N0}</td><td style=\"text-align:right\">{r.ReceptiveField}</td>"
                + $"<td style=\"text-align:right\">{r.Jump}</td><td style=\"text-align:right\">{r.Macs:N0}</td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
        html.Append(ci, $"<p><b>{s.TotalParameters:N0}</b> parameters ({s.TrainableParameters:N0} trainable); ")
            .Append(ci, $"{s.TotalMacs:N0} multiply–accumulates per image; ")
            .Append(ci, $"receptive field of the last layer {s.Rows[^1].ReceptiveField}×{s.Rows[^1].ReceptiveField} pixels; ")
            .Append(ci, $"about {s.TotalMB:F2} MB for one image's forward and backward pass.</p>\n");
        return html.ToString();
    }

    private static string Enc(string s) => WebUtility.HtmlEncode(s);
}
