using RichLazyOrleans.Engine;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Silo;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>`--gpus`: a list as given, `all` from the driver's listing, one-line errors otherwise.</summary>
public class SiloGpusTests
{
    [Fact]
    public void Gpu_lists_parse_and_all_reads_the_driver()
    {
        Assert.Equal(["0", "1", "3"], SiloGpus.Parse("0, 1,3"));
        Assert.Empty(SiloGpus.Parse(null));
        Assert.Empty(SiloGpus.Parse("none"));
        const string smi = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1c2d)\n"
            + "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-9f0e)\n";
        Assert.Equal(["0", "1"], SiloGpus.Parse("all", () => smi));
        Assert.Contains("lists no GPU", Assert.Throws<SpecException>(() => SiloGpus.Parse("all", () => null)).Message);
        Assert.Contains("not a GPU ordinal", Assert.Throws<SpecException>(() => SiloGpus.Parse("0,x")).Message);
        Assert.Contains("twice", Assert.Throws<SpecException>(() => SiloGpus.Parse("1,1")).Message);
    }

    [Theory]
    [InlineData(null, "cpu", false)]
    [InlineData("cuda", "gpu", true)]
    [InlineData("cuda:1", "gpu", true)]
    [InlineData("auto", "auto", false)]
    public void A_runs_device_key_says_which_slot_it_takes(string? device, string request, bool alwaysGpu)
    {
        var spec = new System.Text.Json.Nodes.JsonObject();
        if (device is not null) spec["device"] = device;
        Assert.Equal(request, RunDevice.Of(spec).ToString().ToLowerInvariant());
        Assert.Equal(alwaysGpu, RunDevice.TakesGpu(RunDevice.Of(spec), gpus: 0));
        Assert.Equal(device is not null, RunDevice.TakesGpu(RunDevice.Of(spec), gpus: 2));
        // A built-in kind runs on its slot's GPU (auto on a CPU slot: the CPU).
        var kind = RunKindRegistry.Get("teacher-student");
        if (device is not null)
        {
            Assert.Equal("cuda:1", RunDevice.Pin(kind, spec, "1")["device"]!.GetValue<string>());
            if (device == "auto") Assert.Equal("cpu", RunDevice.Pin(kind, spec, null)["device"]!.GetValue<string>());
        }
    }
}
