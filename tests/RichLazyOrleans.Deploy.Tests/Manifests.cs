using System.Text;
using k8s;
using k8s.Models;

namespace RichLazyOrleans.Deploy.Tests;

/// <summary>A workload's pod template: what Services, PDBs and NetworkPolicies select.</summary>
internal sealed record Workload(string Kind, string Name, V1LabelSelector? Selector, V1PodTemplateSpec Template)
{
    public IDictionary<string, string> Labels => Template.Metadata?.Labels ?? new Dictionary<string, string>();
    public string? Component => Labels.TryGetValue("app.kubernetes.io/component", out var c) ? c : null;
    public IEnumerable<V1Container> AllContainers =>
        (Template.Spec.InitContainers ?? []).Concat(Template.Spec.Containers ?? []);
    public override string ToString() => $"{Kind}/{Name}";
}

/// <summary>One set of Kubernetes objects: the base's files as written, or a kustomize rendering.</summary>
internal sealed class ManifestSet
{
    public required string Name { get; init; }
    public required bool Rendered { get; init; }
    public required IReadOnlyList<object> Objects { get; init; }
    /// <summary>The base kustomization's configMapGenerator: ConfigMap name → (key → file under k8s/base).</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Generated { get; init; }

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public T One<T>(string name) where T : IMetadata<V1ObjectMeta> =>
        All<T>().SingleOrDefault(o => o.Metadata.Name == name)
        ?? throw new Xunit.Sdk.XunitException($"{Name}: no {typeof(T).Name} named {name}");

    public IReadOnlyList<Workload> Workloads =>
    [
        .. All<V1StatefulSet>()
            .Select(s => new Workload("StatefulSet", s.Metadata.Name, s.Spec.Selector, s.Spec.Template)),
        .. All<V1Deployment>()
            .Select(d => new Workload("Deployment", d.Metadata.Name, d.Spec.Selector, d.Spec.Template)),
        .. All<V1DaemonSet>().Select(d => new Workload("DaemonSet", d.Metadata.Name, d.Spec.Selector, d.Spec.Template)),
        .. All<V1Job>().Select(j => new Workload("Job", j.Metadata.Name, j.Spec.Selector, j.Spec.Template)),
    ];

    public Workload Component(string component) =>
        Workloads.SingleOrDefault(w => w.Component == component)
        ?? throw new Xunit.Sdk.XunitException($"{Name}: expected exactly one workload with " +
            $"app.kubernetes.io/component={component}, found {Workloads.Count(w => w.Component == component)}");

    public Workload SiloWorkload => Component("silo");

    public V1Container SiloContainer => Container(SiloWorkload, "silo");

    public static V1Container Container(Workload w, string name) =>
        w.Template.Spec.Containers.SingleOrDefault(c => c.Name == name)
        ?? throw new Xunit.Sdk.XunitException($"{w}: no container named {name}");

    /// <summary>A Secret's value, from stringData or (base64) data.</summary>
    public string? SecretValue(string secret, string key)
    {
        var s = All<V1Secret>().SingleOrDefault(x => x.Metadata.Name == secret);
        if (s is null) return null;
        if (s.StringData is not null && s.StringData.TryGetValue(key, out var plain)) return plain;
        if (s.Data is not null && s.Data.TryGetValue(key, out var bytes)) return Encoding.UTF8.GetString(bytes);
        return null;
    }

    /// <summary>Does a ConfigMap by this name exist, or will kustomize generate it?</summary>
    public IReadOnlyDictionary<string, string>? ConfigMapKeys(string name)
    {
        var cm = All<V1ConfigMap>().SingleOrDefault(x => x.Metadata.Name == name);
        if (cm is not null)
            return (cm.Data ?? new Dictionary<string, string>()).ToDictionary(kv => kv.Key, kv => kv.Value);
        return Generated.TryGetValue(name, out var keys) ? keys : null;
    }

    public override string ToString() => Name;
}

internal static class Manifests
{
    public const string BaseFiles = "k8s/base (files)";
    public const string BaseRendered = "k8s/base (kubectl kustomize)";
    public const string GpuRendered = "k8s/overlays/gpu (kubectl kustomize)";

    /// <summary>The TLS Secret (kubernetes.io/tls plus ca.crt) the silos and the Job mount.</summary>
    public const string TlsSecret = "richlazy-tls";

    /// <summary>
    /// Secrets the base mounts but does not define: the operator (or cert-manager) creates them, as k8s/README.md
    /// says, so that `kubectl apply -k` never overwrites real key material with a placeholder.
    /// </summary>
    public static IReadOnlySet<string> OperatorSecrets { get; } = new HashSet<string> { TlsSecret };

    /// <summary>Every source the Kubernetes tests run on; the kustomize ones only where kubectl exists.</summary>
    public static TheoryData<string> Sources => new() { BaseFiles, BaseRendered, GpuRendered };

    private static readonly Lazy<ManifestSet> BaseFilesLazy = new(LoadBaseFiles);
    private static readonly Lazy<ManifestSet?> BaseRenderedLazy = new(() => Render(BaseRendered, "k8s/base"));
    private static readonly Lazy<ManifestSet?> GpuRenderedLazy = new(() => Render(GpuRendered, "k8s/overlays/gpu"));

    /// <summary>The set, or null where it needs kubectl and there is none (SKIPPED printed).</summary>
    /// <summary>The set of <paramref name="source"/>; the calling test is reported skipped where kubectl (which
    /// renders the kustomizations) is missing.</summary>
    public static ManifestSet Get(string source)
    {
        var set = source switch
        {
            BaseFiles => BaseFilesLazy.Value,
            BaseRendered => BaseRenderedLazy.Value,
            GpuRendered => GpuRenderedLazy.Value,
            _ => throw new ArgumentException(source),
        };
        Skip.If(set is null, $"kubectl not found on PATH; {source} not checked");
        return set!;
    }

    /// <summary>Top-level YAML files of k8s/base, kustomization.yaml aside.</summary>
    public static IReadOnlyList<string> BaseResourceFiles() =>
        Directory.EnumerateFiles(Repo.PathOf("k8s", "base"))
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Select(Path.GetFileName)
            .Where(f => f is not ("kustomization.yaml" or "kustomization.yml"))
            .Select(f => f!)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Typed objects from YAML text; strict, so a misspelt field fails the load.</summary>
    public static List<object> Load(string yaml, string what)
    {
        try { return KubernetesYaml.LoadAllFromString(yaml, null, strict: true).Where(o => o is not null).ToList(); }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException(
                $"{what}: does not load as Kubernetes objects: {e.GetType().Name}: {e.Message}");
        }
    }

    private static ManifestSet LoadBaseFiles()
    {
        var objects = new List<object>();
        foreach (var file in BaseResourceFiles())
            objects.AddRange(Load(Repo.Read("k8s", "base", file), $"k8s/base/{file}"));
        return new ManifestSet { Name = BaseFiles, Rendered = false, Objects = objects,
            Generated = BaseKustomization.Generators() };
    }

    private static ManifestSet? Render(string name, string dir)
    {
        var yaml = Repo.Kustomize(dir);
        if (yaml is null) return null;
        return new ManifestSet { Name = name, Rendered = true, Objects = Load(yaml, name),
            Generated = BaseKustomization.Generators() };
    }

    // ---- selectors -------------------------------------------------------------------------------

    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        if (selector is null) return false;
        labels ??= new Dictionary<string, string>();
        foreach (var (k, v) in selector.MatchLabels ?? new Dictionary<string, string>())
            if (!labels.TryGetValue(k, out var actual) || actual != v) return false;
        foreach (var e in selector.MatchExpressions ?? [])
        {
            bool has = labels.TryGetValue(e.Key, out var actual);
            bool ok = e.OperatorProperty switch
            {
                "In" => has && (e.Values ?? []).Contains(actual!),
                "NotIn" => !has || !(e.Values ?? []).Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => throw new Xunit.Sdk.XunitException($"unknown selector operator {e.OperatorProperty}"),
            };
            if (!ok) return false;
        }
        return true;
    }

    /// <summary>A Service's selector (equality only); an empty one selects nothing (no endpoints).</summary>
    public static bool Matches(IDictionary<string, string>? serviceSelector, IDictionary<string, string>? labels) =>
        serviceSelector is { Count: > 0 } && Matches(new V1LabelSelector { MatchLabels = serviceSelector }, labels);

    public static bool IsEmpty(V1LabelSelector? s) =>
        s is not null && (s.MatchLabels?.Count ?? 0) == 0 && (s.MatchExpressions?.Count ?? 0) == 0;

    // ---- ports ------------------------------------------------------------------------------------

    /// <summary>The container port a probe, Service or NetworkPolicy names (by name or number), or null.</summary>
    public static V1ContainerPort? FindPort(IEnumerable<V1Container> containers, IntOrString? port)
    {
        if (port is null) return null;
        var ports = containers.SelectMany(c => c.Ports ?? []).ToList();
        string value = port.Value;
        return int.TryParse(value, out int number)
            ? ports.FirstOrDefault(p => p.ContainerPort == number)
            : ports.FirstOrDefault(p => p.Name == value);
    }

    public static V1EnvVar? Env(V1Container c, string name) => (c.Env ?? []).SingleOrDefault(e => e.Name == name);

    public static string? EnvValue(V1Container c, string name) => Env(c, name)?.Value;
}

/// <summary>k8s/base/kustomization.yaml read as plain YAML (it is not a Kubernetes object).</summary>
internal static class BaseKustomization
{
    public static Dictionary<object, object> Read(string dir = "k8s/base") =>
        Repo.Map(Repo.Yaml(Repo.Read(dir, "kustomization.yaml")), $"{dir}/kustomization.yaml");

    public static IReadOnlyList<string> Resources(Dictionary<object, object> k) =>
        k.TryGetValue("resources", out var r) ? Repo.List(r, "resources").Select(x => x.ToString()!).ToList() : [];

    /// <summary>configMapGenerator: name → (key → file relative to k8s/base).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Generators()
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, string>>();
        var k = Read();
        if (!k.TryGetValue("configMapGenerator", out var gens)) return result;
        foreach (var g in Repo.List(gens, "configMapGenerator"))
        {
            var map = Repo.Map(g, "configMapGenerator entry");
            var name = Repo.Str(map, "name")
                ?? throw new Xunit.Sdk.XunitException("configMapGenerator entry without a name");
            var files = new Dictionary<string, string>();
            if (map.TryGetValue("files", out var f))
                foreach (var entry in Repo.List(f, $"configMapGenerator {name} files").Select(x => x.ToString()!))
                {
                    int eq = entry.IndexOf('=');
                    string key = eq >= 0 ? entry[..eq] : Path.GetFileName(entry);
                    files[key] = eq >= 0 ? entry[(eq + 1)..] : entry;
                }
            result[name] = files;
        }
        return result;
    }
}
