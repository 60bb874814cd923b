using System.Net;
using System.Text;
using Era.Backprop;
using Era.Excel.Writing;
using Era.Symbolic;

namespace Era.Handouts;

/// <summary>
/// playground.html: the 2-2-2 network live in the page, offline. Inputs i1, i2, t1, t2, w1…w8 (presets classic and
/// era), η and the iteration k; the network diagram, the table's row at k and the E_total curves for the course's
/// learning rates redraw as they change. The numbers come from network.js, the forward pass and gradients generated
/// from lib/Era/Symbolic (<see cref="NetworkScript"/>); playground.js iterates and draws. The row's values sit in
/// elements marked data-playground="COLUMN" (the column names of `./era backprop --format csv`, and k), as text in
/// round-trip precision; the state is in the URL (?preset=era&amp;lr=0.5&amp;k=181&amp;w=…&amp;i=…&amp;t=…).
/// </summary>
public static class Playground
{
    public const string PageName = "playground.html";

    public const string Title = "The 2-2-2 network, live";

    /// <summary>The largest iteration the page runs to (as many rows as the workbook holds).</summary>
    public const int MaxIterations = BackpropWorkbook.MaxIterations;

    public static string Page(WebAssets assets)
    {
        var graph = NetworkGraph.Build(withBiases: false);
        var config = NetworkConfig.Classic;
        var values = graph.Evaluate(NetworkGraph.Leaves(config, config.Weights));
        string Math(Expr e) => $"<span class=\"math\">\\({Encode(Render.Latex(e))}\\)</span>";
        var formula = graph.Definitions.ToDictionary(d => d.Name == graph.Output ? "E_tot" : d.Name, d => Math(d.Body));
        foreach (var w in Weights.Names) formula[$"dE/d{w}"] = Math(Derivation.For(graph, w, values).ClosedForm);

        var body = new StringBuilder("<section class=\"cell markdown playground\">\n");
        body.Append($"<h1>{Title}</h1>\n");
        body.Append("<p>The network of notebook 1, two inputs, two hidden units, two outputs, trained by gradient descent "
            + "in this page. Change a number or move the slider: the diagram, the row of the table at iteration <em>k</em> "
            + "and the curves of E<sub>total</sub> follow. The page runs the forward pass and the eight gradients exactly "
            + "as the program derives them (generated from <code>lib/Era/Symbolic</code>), so its numbers are "
            + "<code>./era backprop</code>'s. The address holds what you set: copy it to share this state.</p>\n");
        body.Append($"<form id=\"playground\" data-max-iterations=\"{MaxIterations}\" autocomplete=\"off\">\n");
        body.Append("<fieldset><legend>network</legend>\n<label>preset <select name=\"preset\">");
        foreach (var name in NetworkConfig.PresetNames) body.Append($"<option value=\"{name}\">{name}</option>");
        body.Append("</select></label>\n");
        foreach (var name in new[] { "i1", "i2", "t1", "t2" }) body.Append(Field(name, name));
        body.Append("</fieldset>\n<fieldset><legend>initial weights</legend>\n");
        foreach (var name in Weights.Names) body.Append(Field(name, name));
        body.Append("</fieldset>\n<fieldset><legend>descent</legend>\n").Append(Field("lr", "η"));
        body.Append(Field("k", "k", "numeric"));
        body.Append($"<label class=\"slider\">iteration <input type=\"range\" name=\"slider\" min=\"1\" max=\"{IterationTable.DefaultIterations}\" value=\"{IterationTable.DefaultIterations}\"></label>\n");
        body.Append("</fieldset>\n</form>\n");
        body.Append("<p id=\"playground-error\" class=\"playground-error\" role=\"alert\" hidden></p>\n");
        body.Append("<p class=\"playground-share\"><a id=\"playground-link\" href=\"?\">link to this state</a></p>\n");
        body.Append("<svg id=\"playground-network\" viewBox=\"0 0 360 220\" role=\"img\" aria-label=\"the 2-2-2 network with its weights and activations\"></svg>\n");
        body.Append("<h2>The table's row at iteration <span data-playground=\"k\"></span></h2>\n");
        body.Append("<div class=\"output playground-row\"><table>\n<thead><tr><th>column</th><th>value</th><th>computed as</th></tr></thead>\n<tbody>\n");
        body.Append("<tr><th>k</th><td data-playground=\"k\"></td><td></td></tr>\n");
        foreach (var column in TableColumns.For(config))
            body.Append($"<tr><th>{Encode(column.Name)}</th><td data-playground=\"{Encode(column.Name)}\"></td><td>{formula.GetValueOrDefault(column.Name, column.Name.StartsWith('w') ? "row k − 1's, less η·∂E/∂w" : "given")}</td></tr>\n");
        body.Append("</tbody></table></div>\n");
        body.Append("<h2>E<sub>total</sub> by learning rate</h2>\n");
        body.Append("<figure class=\"output figure\"><div class=\"interactive\" id=\"playground-curves\"></div></figure>\n");
        body.Append("</section>\n");
        body.Append("<script>/* network.js, generated from lib/Era/Symbolic */\n").Append(HandoutPage.ScriptSafe(assets.PlaygroundNetworkJs)).Append("\n</script>\n");
        body.Append("<script>/* playground.js */\n").Append(HandoutPage.ScriptSafe(assets.PlaygroundJs)).Append("\n</script>\n");
        return HandoutPage.Page(Title, body.ToString(), assets, figures: true);
    }

    private static string Field(string name, string label, string mode = "decimal") =>
        $"<label>{label} <input type=\"text\" inputmode=\"{mode}\" name=\"{name}\" size=\"8\" spellcheck=\"false\"></label>\n";

    private static string Encode(string s) => WebUtility.HtmlEncode(s);
}
