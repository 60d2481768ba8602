using RichLazyOrleans.Engine;
using System.CommandLine;
using System.Globalization;
using RichLazyOrleans.Sweeps;
using RichLazyOrleans.Sweeps.Evaluation;

namespace RichLazyOrleans.Cli;

/// <summary>
/// `richlazy bench sampler`: how many uniform grid points the adaptive planner is worth, on random synthetic fields of
/// four families (open curves, two-branch hyperbolas, closed ellipses, islands between the initial lattice's nodes),
/// judged as a user would judge the points: linear interpolation of the seed means on a 300 × 300 grid against the
/// noise-free truth. Also the round-based refinement used before, on the same fields, and a noisy field with adaptive
/// seeds against a uniform grid with 4 seeds per point.
/// </summary>
internal static class SamplerBench
{
    private static readonly (string Name, Func<Random, SyntheticField> Make)[] Families =
    [
        ("open", r => SyntheticField.Open(r, 0.02)),
        ("hyperbola", r => SyntheticField.Hyperbola(r, 0.02)),
        ("ellipse", r => SyntheticField.RandomEllipse(r, 0.02)),
        ("island", r => SyntheticField.Island(r, 0.02)),
    ];

    public static Command Create()
    {
        var fields = new Option<int>("--fields")
            { Description = "random fields per family", DefaultValueFactory = _ => 5 };
        var budgets = new Option<string>("--budgets")
            { Description = "grid-point budgets, comma-separated", DefaultValueFactory = _ => "150,500" };
        var depth = new Option<int>("--max-depth") { DefaultValueFactory = _ => 6 };
        var seed = new Option<int>("--seed")
            { Description = "seed of the random fields", DefaultValueFactory = _ => 1 };
        var noisy = new Option<int>("--noisy-fields")
            { Description = "noisy open fields (noise 0.2, width 0.05)", DefaultValueFactory = _ => 4 };
        var cmd = new Command("sampler",
            "Adaptive planner vs uniform grids (and the old round-based refinement) on random synthetic fields.")
        {
            fields, budgets, depth, seed, noisy,
        };
        cmd.SetAction(p =>
        {
            var list = p.GetValue(budgets)!.Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToList();
            return Run(p.GetValue(fields), list, p.GetValue(depth), p.GetValue(seed), p.GetValue(noisy));
        });
        return cmd;
    }

    private static int Run(int fieldsPerFamily, List<int> budgets, int maxDepth, int seed, int noisyFields)
    {
        Console.WriteLine("family     field budget  adaptive   uniform 4x  uniform 8x  worth (x uniform)  "
            + "old refinement (worth)");
        var worst = budgets.ToDictionary(b => b, _ => double.PositiveInfinity);
        var fails = budgets.ToDictionary(b => b, _ => 0);
        foreach (var (name, make) in Families)
        {
            var r = new Random(seed);
            for (int i = 0; i < fieldsPerFamily; i++)
            {
                var field = make(r);
                foreach (int budget in budgets)
                {
                    var a = SamplerEvaluation.Adaptive(field, SamplerEvaluation.Spec(field, 5, maxDepth, budget));
                    double u4 = SamplerEvaluation.Uniform(field, (int)Math.Round(Math.Sqrt(4.0 * budget)));
                    double u8 = SamplerEvaluation.Uniform(field, (int)Math.Round(Math.Sqrt(8.0 * budget)));
                    double worth = Worth(field, a.Misclassified, budget);
                    var old = Old(field, maxDepth, budget);
                    bool pass = a.Misclassified <= (budget >= 500 ? u8 : u4);
                    if (!pass) fails[budget]++;
                    worst[budget] = Math.Min(worst[budget], worth);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name,-10} {i,5} {budget,6}  {a.Misclassified,9:E2}  {u4,9:E2}  {u8,9:E2}   "
                        + $"{worth,8:F1}{(pass ? "" : " (below bar)"),-12} {old.Error,9:E2} ({old.Worth:F1})"));
                }
            }
        }
        foreach (int b in budgets)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"budget {b}: worst field worth {worst[b]:F1}x a uniform grid; "
                + $"{fails[b]} field(s) below the bar ({(b >= 500 ? 8 : 4)}x)"));
        if (noisyFields > 0) Noisy(noisyFields, maxDepth, seed);
        return 0;
    }

    /// <summary>How many times the adaptive points a uniform grid needs to misclassify no more (k² / points).
    /// </summary>
    private static double Worth(SyntheticField field, double error, int points) =>
        SamplerEvaluation.EquivalentUniform(field, error, maxK: 200) is int k
            ? k * k / (double)points
            : double.PositiveInfinity;

    private static (double Error, double Worth) Old(SyntheticField field, int maxDepth, int budget)
    {
        var lattice = new Lattice([5, 5], maxDepth);
        var values = RoundRefinement.Sample(lattice, 0.5, budget, field.At);
        double error = SamplerEvaluation.Misclassified(field,
            new PhaseEstimate(lattice, values).Raster(SamplerEvaluation.EvaluationGrid));
        return (error, Worth(field, error, values.Count));
    }

    /// <summary>
    /// Noise 0.2 on a field of width 0.05, seeds { min: 2, max: 16 }: for each uniform grid with 4 seeds per point,
    /// the runs the planner needs (smallest budget from a ladder) to misclassify no more area. Both errors are means
    /// over <see cref="Realisations"/> independent noise draws (other seed values), since one draw of a noisy grid can
    /// be lucky or unlucky by ±30%.
    /// </summary>
    private static void Noisy(int count, int maxDepth, int seed)
    {
        Console.WriteLine();
        Console.WriteLine($"noisy open fields (noise 0.2, width 0.05), adaptive seeds {{ min: 2, max: 16 }} "
            + $"vs uniform k x k x 4 seeds, "
            + $"errors averaged over {Realisations} noise draws");
        int[] ladder = [30, 35, 40, 45, 50, 55, 60, 70, 80, 100, 130, 160, 200];
        int[] grids = [12, 16, 20, 24];
        var r = new Random(seed + 1000);
        var ratios = new List<double>();
        for (int i = 0; i < count; i++)
        {
            var field = SyntheticField.Open(r, 0.05);
            var adaptive = ladder.Select(b => Enumerable.Range(0, Realisations).Select(rep =>
                    SamplerEvaluation.Adaptive(field,
                        SamplerEvaluation.Spec(field, 5, maxDepth, b, $"{{ first: {1000 * rep}, min: 2, max: 16 }}"),
                        noise: 0.2)).ToList())
                .Select(rs => (Runs: rs.Average(x => x.Runs), Error: rs.Average(x => x.Misclassified))).ToList();
            var line = $"field {i}:";
            foreach (int k in grids)
            {
                double eu = Enumerable.Range(0, Realisations)
                    .Average(rep => SamplerEvaluation.Uniform(field, k, seeds: 4, noise: 0.2, firstSeed: 1000 * rep));
                int match = adaptive.FindIndex(a => a.Error <= eu);
                double ratio = match < 0 ? double.NaN : adaptive[match].Runs / (4.0 * k * k);
                if (match >= 0) ratios.Add(ratio);
                line += string.Create(CultureInfo.InvariantCulture,
                    $"  {k}x{k}x4 = {4 * k * k} runs: {eu:E2} -> adaptive "
                    + $"{(match < 0 ? "none in ladder" : $"{adaptive[match].Runs:F0} runs ({ratio:F2})")}");
            }
            Console.WriteLine(line);
        }
        if (ratios.Count > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"runs needed by the planner / runs of the uniform grid: "
                + $"median {ratios.Order().ElementAt(ratios.Count / 2):F2}, worst {ratios.Max():F2}"));
    }

    private const int Realisations = 5;
}
