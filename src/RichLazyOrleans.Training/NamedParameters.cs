using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>
/// Parameter tensors to and from float64 arrays by name: what saved states hold, exact for float32
/// and float64 tensors alike, on any device.
/// </summary>
public static class NamedParameters
{
    public static Dictionary<string, double[]> Export(IReadOnlyList<string> names, IReadOnlyList<Tensor> parameters)
    {
        using var scope = NewDisposeScope();
        var result = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
            result[names[i]] = parameters[i].detach().to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        return result;
    }

    /// <summary>
    /// Copies each named array into its tensor (cast to the tensor's dtype and device); a missing or mis-sized one is
    /// an error.
    /// </summary>
    public static void Load(IReadOnlyList<string> names, IReadOnlyList<Tensor> parameters,
        IReadOnlyDictionary<string, double[]> values)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < names.Count; i++)
        {
            var p = parameters[i];
            if (!values.TryGetValue(names[i], out var a) || a.Length != p.numel())
                throw new InvalidOperationException($"saved parameter '{names[i]}' is missing or has the wrong size");
            p.copy_(tensor(a, p.shape, ScalarType.Float64, p.device).to_type(p.dtype));
        }
    }
}
