using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.RunKinds;

/// <summary>The data keys of the linear theory kinds: `x` (n×d) and `y` (n×c, or n values for c = 1).</summary>
internal static class DataKeys
{
    /// <summary>
    /// `x` and `y` as <see cref="LinearData"/>, or null when neither is given (the kind then reads its whitened key,
    /// <paramref name="whitenedKey"/>, which must not be given beside them).
    /// </summary>
    public static LinearData? Samples(Spec spec, string whitenedKey)
    {
        if (!spec.Has("x") && !spec.Has("y")) return null;
        if (spec.Has(whitenedKey))
            throw new SpecException($"give either '{whitenedKey}' or data 'x' and 'y', not both");
        if (!spec.Has("x")) throw new SpecException("missing key 'x' (the inputs of 'y', n x d)");
        var x = spec.Matrix("x", shape: "n x d");
        if (!spec.Has("y")) throw new SpecException("missing key 'y' (the targets of 'x')");
        var y = spec.Json["y"] is JsonArray { Count: > 0 } a && a[0] is JsonArray
            ? spec.Matrix("y", rows: x.Rows, shape: "n x c")
            : new Matrix(x.Rows, 1, spec.Vector("y", x.Rows));
        return LinearData.FromSamples(x, y);
    }
}
