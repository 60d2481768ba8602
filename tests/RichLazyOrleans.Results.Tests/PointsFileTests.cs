using RichLazyOrleans.Results;

namespace RichLazyOrleans.Results.Tests;

public class PointsFileTests
{
    [Fact]
    public async Task Points_round_trip_with_axis_columns_nulls_and_the_metric_in_the_metadata()
    {
        string dir = Directory.CreateTempSubdirectory("points-").FullName;
        try
        {
            PointRow[] rows =
            [
                new([0.1, -1], 0, 0, 0, 0, 0.25, 0.01, 2, 2),
                new([2.0, 1], 64, 64, 0, 2, null, null, 0, 2),        // pending: no value yet
                new([0.5, 0.125], 32, 36, 3, 40, 0.5, null, 1, 1),   // one seed: no standard error
            ];
            await PointsFile.WriteAsync(dir, ["tau", "delta"], rows, "value", 0.5);
            var (back, meta) = await PointsFile.ReadAsync(dir, ["tau", "delta"]);
            Assert.Equal(rows.Length, back.Count);
            for (int k = 0; k < rows.Length; k++)
            {
                Assert.Equal(rows[k].AxisValues, back[k].AxisValues);
                Assert.Equal(rows[k] with { AxisValues = back[k].AxisValues }, back[k]);
            }
            Assert.Equal("value", meta["richlazy.metric"]);
            Assert.Equal("0.5", meta["richlazy.threshold"]);
            Assert.Empty(Directory.EnumerateFiles(dir, "*.tmp"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
