namespace RichLazyOrleans.Deploy.Tests;

/// <summary>The sweep specs the deployments run (deploy/examples, k8s/base/specs).</summary>
public class SweepSpecTests
{
    public static TheoryData<string> Specs()
    {
        var data = new TheoryData<string>();
        foreach (var dir in new[] { "deploy/examples", "k8s/base/specs" })
            foreach (var f in Directory.EnumerateFiles(Repo.PathOf(dir.Split('/')), "*.yaml")
                .Order(StringComparer.Ordinal))
                data.Add($"{dir}/{Path.GetFileName(f)}");
        return data;
    }

    [Theory, MemberData(nameof(Specs))]
    public void Spec_has_the_sweep_keys_and_is_named_after_its_file(string path)
    {
        var spec = Repo.Map(Repo.Yaml(Repo.Read(path.Split('/'))), path);
        // Named after the file, so `--out /data/results/NAME` and the file name agree.
        Assert.Equal(Path.GetFileNameWithoutExtension(path), Repo.Str(spec, "name"));
        Assert.False(string.IsNullOrEmpty(Repo.Str(spec, "kind")));
        var axes = Repo.Map(spec["axes"], $"{path} axes");
        Assert.InRange(axes.Count, 1, 2);
        Assert.Contains("tau", axes.Keys.Select(k => k.ToString()));
        foreach (var (axis, value) in axes)
        {
            var a = Repo.Map(value, $"{path} axis {axis}");
            Assert.True(double.Parse(Repo.Str(a, "from")!, System.Globalization.CultureInfo.InvariantCulture)
                      < double.Parse(Repo.Str(a, "to")!, System.Globalization.CultureInfo.InvariantCulture),
                        $"{path}: axis {axis} from >= to");
        }
        var grid = Repo.List(Repo.Map(spec["grid"], "grid")["initial"], "grid.initial");
        Assert.Equal(axes.Count, grid.Count);
        Assert.NotEmpty(Repo.List(spec["seeds"], "seeds"));
    }
}
