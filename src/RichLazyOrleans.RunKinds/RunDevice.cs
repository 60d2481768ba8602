using System.Text.Json.Nodes;

namespace RichLazyOrleans.RunKinds;

/// <summary>What a run's `device` key asks of its slot.</summary>
public enum DeviceRequest
{
    /// <summary>No key, or `cpu`: a CPU slot.</summary>
    Cpu,
    /// <summary>`auto`: a GPU slot where the silo has them, else a CPU slot.</summary>
    Auto,
    /// <summary>`cuda`, `cuda:N` or `gpu`: a GPU slot, never a silo without one.</summary>
    Gpu,
}

/// <summary>
/// GPU slots and the `device` key: a silo started with `--gpus 0,1` has a slot per GPU, and a run is pinned to its
/// slot's GPU. Built-in (TorchSharp) kinds get `device: cuda:N` with N that GPU (`auto` on a CPU slot becomes
/// `cpu`); `command` programs keep their key and see only their GPU (CUDA_VISIBLE_DEVICES = N, so it is their
/// `cuda:0`).
/// </summary>
public static class RunDevice
{
    public static DeviceRequest Of(JsonObject spec) =>
        spec["device"] is JsonValue v && v.TryGetValue(out string? d) ? d switch
        {
            "auto" => DeviceRequest.Auto,
            "gpu" or "cuda" => DeviceRequest.Gpu,
            _ when d.StartsWith("cuda:", StringComparison.Ordinal) => DeviceRequest.Gpu,
            _ => DeviceRequest.Cpu,
        } : DeviceRequest.Cpu;

    /// <summary>
    /// What a run of <paramref name="kind"/> asks: `auto` of a kind that runs on the CPU only is a CPU request, so it
    /// never takes a GPU slot it could not use.
    /// </summary>
    public static DeviceRequest Of(IRunKind kind, JsonObject spec) =>
        Of(spec) is DeviceRequest.Auto && !kind.Cuda && !kind.Open ? DeviceRequest.Cpu : Of(spec);

    /// <summary>Whether a run asking <paramref name="request"/> takes a GPU slot on a silo with <paramref name="gpus"/>
    /// GPUs.</summary>
    public static bool TakesGpu(DeviceRequest request, int gpus) =>
        request == DeviceRequest.Gpu || request == DeviceRequest.Auto && gpus > 0;

    /// <summary>The spec a built-in kind runs on a slot with <paramref name="gpu"/> (null: a CPU slot).</summary>
    public static JsonObject Pin(IRunKind kind, JsonObject spec, string? gpu)
    {
        var request = Of(kind, spec);
        if (kind.Open || request == DeviceRequest.Cpu) return spec;
        var pinned = (JsonObject)spec.DeepClone();
        pinned["device"] = gpu is null ? "cpu" : $"cuda:{gpu}";
        return pinned;
    }
}
