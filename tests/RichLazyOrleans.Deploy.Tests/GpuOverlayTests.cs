using k8s.Models;
using RichLazyOrleans.Silo;

namespace RichLazyOrleans.Deploy.Tests;

/// <summary>k8s/overlays/gpu: one run per GPU, on GPU nodes.</summary>
public class GpuOverlayTests
{
    /// <summary>The patch on its own (no kubectl needed): slots equal the GPUs it asks for.</summary>
    [Fact]
    public void Gpu_patch_gives_one_slot_per_gpu_on_gpu_nodes()
    {
        var k = BaseKustomization.Read("k8s/overlays/gpu");
        Assert.Contains("../../base", BaseKustomization.Resources(k));
        var patches = Repo.List(k["patches"], "patches").Select(p => Repo.Map(p, "patch")).ToList();
        var patch = Assert.Single(patches);
        var path = Repo.Str(patch, "path")!;
        Assert.True(File.Exists(Repo.PathOf("k8s", "overlays", "gpu", path)), $"patch {path} does not exist");

        var sts = Assert.IsType<V1StatefulSet>(
            Assert.Single(Manifests.Load(Repo.Read("k8s", "overlays", "gpu", path), path)));
        Assert.Equal("richlazy-silo", sts.Metadata.Name);
        var target = Repo.MapOrNull(patch, "target");
        if (target is not null) Assert.Equal("richlazy-silo", Repo.Str(target, "name"));
        AssertOneSlotPerGpu(sts.Spec.Template.Spec);
    }

    /// <summary>The rendered overlay (kubectl kustomize): the same, after the merge with the base.</summary>
    [SkippableFact]
    public void Rendered_gpu_overlay_gives_one_slot_per_gpu_on_gpu_nodes()
    {
        var set = Manifests.Get(Manifests.GpuRendered);
        var sts = set.One<V1StatefulSet>("richlazy-silo");
        AssertOneSlotPerGpu(sts.Spec.Template.Spec);
        // The merge kept one RICHLAZY_SLOTS and the base's image, ports and probes.
        var silo = set.SiloContainer;
        Assert.Single(silo.Env, e => e.Name == SiloEnvironment.Slots);
        Assert.Equal(3, silo.Ports.Count);
        Assert.NotNull(silo.ReadinessProbe);
        Assert.Equal("richlazy:latest", silo.Image);
        // The base's CPU silos are not left over anywhere.
        Assert.Single(set.All<V1StatefulSet>());
    }

    private static void AssertOneSlotPerGpu(V1PodSpec pod)
    {
        var silo = Assert.Single(pod.Containers, c => c.Name == "silo");
        Assert.True(silo.Resources?.Limits is { } limits && limits.ContainsKey("nvidia.com/gpu"),
            "no nvidia.com/gpu limit");
        int gpus = silo.Resources!.Limits["nvidia.com/gpu"].ToInt32();
        Assert.Equal(1, gpus);
        // A slot per GPU the driver lists in the pod (the limit), and no CPU slots beside them.
        Assert.Equal("0", Assert.Single(silo.Env, e => e.Name == SiloEnvironment.Slots).Value);
        Assert.Equal("all", Assert.Single(silo.Env, e => e.Name == SiloEnvironment.Gpus).Value);
        Assert.True(pod.NodeSelector is { Count: > 0 }, "no nodeSelector for GPU nodes");
        Assert.Contains(pod.Tolerations ?? [], t =>
            t.Key == "nvidia.com/gpu" && t.Effect is null or "NoSchedule" && t.OperatorProperty is "Exists" or "Equal");
    }
}
