using RichLazyOrleans.Engine;
using ScottPlot;

namespace RichLazyOrleans.Cli;

/// <summary>Phase-diagram heatmaps: δ across, τ up on a log axis, a colour bar, labelled for a paper draft.</summary>
internal static class PhasePlot
{
    /// <param name="values">values[tauIndex, deltaIndex]</param>
    public static string Heatmap(string path, double[,] values, double[] taus, double[] deltas, string title,
        string subtitle, string colorLabel, bool logValues)
    {
        int nt = taus.Length, nd = deltas.Length;
        // ScottPlot draws row 0 at the top: put the largest τ first.
        var data = new double[nt, nd];
        for (int i = 0; i < nt; i++)
            for (int j = 0; j < nd; j++)
            {
                double v = values[nt - 1 - i, j];
                data[i, j] = logValues ? Math.Log10(Math.Max(v, 1e-300)) : v;
            }
        if (logValues)
        {
            // Clip the colour range to 12 decades below the top so converged corners do not wash out the map.
            double max = data.Cast<double>().Max();
            for (int i = 0; i < nt; i++)
                for (int j = 0; j < nd; j++) data[i, j] = Math.Max(data[i, j], max - 12);
        }

        var plot = new Plot();
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        double dd = (deltas[^1] - deltas[0]) / (nd - 1);
        double lt0 = Math.Log10(taus[0]), lt1 = Math.Log10(taus[^1]), dl = (lt1 - lt0) / (nt - 1);
        hm.Extent = new CoordinateRect(deltas[0] - dd / 2, deltas[^1] + dd / 2, lt0 - dl / 2, lt1 + dl / 2);
        var bar = plot.Add.ColorBar(hm);
        bar.Label = colorLabel;

        plot.Title($"{title}\n{subtitle}");
        plot.XLabel("δ (relative scale: > 0 upstream, < 0 downstream)");
        plot.YLabel("τ (overall scale)");
        // Log axis for τ: decades (and 2, 5 between them on short ranges), labelled with τ itself.
        LogAxis.Apply(plot.Axes.Left, Math.Pow(10, lt0 - dl / 2), Math.Pow(10, lt1 + dl / 2));
        plot.Axes.SetLimits(deltas[0] - dd / 2, deltas[^1] + dd / 2, lt0 - dl / 2, lt1 + dl / 2);
        plot.Axes.Margins(0, 0);

        string tmp = path + ".tmp-" + Environment.ProcessId + ".png";
        plot.SavePng(tmp, 900, 700);
        File.Move(tmp, path, overwrite: true);
        return path;
    }
}
