using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace RichLazyOrleans.Results;

/// <summary>One grid point of a sweep: its axis values (as its runs got them), seed statistics and how it was
/// sampled.</summary>
public sealed record PointRow(IReadOnlyList<double> AxisValues, int LatticeI, int LatticeJ, int Depth, int Order,
    double? Mean, double? StdError, int Seeds, int Runs);

/// <summary>
/// DIR/points.parquet: one row per grid point proposed so far, columns: one per sweep axis (named after it), then
/// `lattice_i`, `lattice_j`, `depth`, `order` (place in the proposal sequence), `mean` and `std_error` of the refine
/// metric over the point's finished seeds (null until known; std_error null below two seeds), `seeds` (finished seeds
/// with a value), `runs` (runs proposed). The metric and threshold are in the file's key-value metadata. Written
/// atomically (temporary name, fsync, rename), so readers never see half a file.
/// </summary>
public static class PointsFile
{
    public const string FileName = "points.parquet";

    public static async Task WriteAsync(string resultsDir, IReadOnlyList<string> axes, IReadOnlyList<PointRow> rows,
        string? metric, double? threshold, CancellationToken ct = default)
    {
        var fields = axes.Select(a => new DataField<double>(a)).Cast<Field>().Concat(
        [
            new DataField<int>("lattice_i"), new DataField<int>("lattice_j"),
            new DataField<int>("depth"), new DataField<int>("order"),
            new DataField<double?>("mean"), new DataField<double?>("std_error"),
            new DataField<int>("seeds"), new DataField<int>("runs"),
        ]).ToArray();
        var schema = new ParquetSchema(fields);
        Directory.CreateDirectory(resultsDir);
        string final = Path.Combine(resultsDir, FileName),
            tmp = Path.Combine(resultsDir, $".{FileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            var metadata = new Dictionary<string, string>
            {
                ["richlazy.metric"] = metric ?? "",
                ["richlazy.threshold"] =
                    threshold?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "",
            };
            var data = rows.Select(r =>
            {
                IDictionary<string, object?> d = new Dictionary<string, object?>();
                for (int a = 0; a < axes.Count; a++) d[axes[a]] = r.AxisValues[a];
                d["lattice_i"] = r.LatticeI; d["lattice_j"] = r.LatticeJ; d["depth"] = r.Depth; d["order"] = r.Order;
                d["mean"] = r.Mean; d["std_error"] = r.StdError; d["seeds"] = r.Seeds; d["runs"] = r.Runs;
                return d;
            }).ToList();
            await using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await ParquetSerializer.SerializeUntypedAsync(data, schema, fs, null, metadata, ct);
                await fs.FlushAsync(ct);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, final, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    // The untyped reader leaves null values out of a row's dictionary.
    private static double? Nullable(Dictionary<string, object> d, string key) =>
        d.TryGetValue(key, out var v) && v is not null ? Convert.ToDouble(v) : null;

    /// <summary>Reads the file back (axis columns by name), for tests and the CLI.</summary>
    public static async Task<(IReadOnlyList<PointRow> Rows, IReadOnlyDictionary<string, string> Metadata)> ReadAsync(
        string resultsDir, IReadOnlyList<string> axes, CancellationToken ct = default)
    {
        string path = Path.Combine(resultsDir, FileName);
        await using var fs = File.OpenRead(path);
        var result = await ParquetSerializer.DeserializeUntypedAsync(fs, cancellationToken: ct);
        var rows = result.Data.Select(d => new PointRow(axes.Select(a => Convert.ToDouble(d[a])).ToArray(),
            Convert.ToInt32(d["lattice_i"]), Convert.ToInt32(d["lattice_j"]), Convert.ToInt32(d["depth"]),
            Convert.ToInt32(d["order"]),
            Nullable(d, "mean"), Nullable(d, "std_error"),
            Convert.ToInt32(d["seeds"]), Convert.ToInt32(d["runs"]))).ToList();
        await using var again = File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(again, cancellationToken: ct);
        return (rows, reader.CustomMetadata);
    }
}
