using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RichLazyOrleans.Sweeps;

/// <summary>Reading YAML nodes with every error naming its key path.</summary>
public sealed partial record SweepSpec
{
    private static bool Flag(YamlNode node, string path) => Str(node) switch
    {
        "true" => true,
        "false" => false,
        var v => throw new SpecException($"key '{path}' must be true or false, got '{v}'"),
    };

    private static string Str(YamlNode n) => n is YamlScalarNode s
        ? s.Value ?? ""
        : throw new SpecException($"expected a value, got a {n.NodeType} at line {n.Start.Line}");

    private static YamlNode? Child(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    private static string RequiredScalar(YamlMappingNode m, string key, string? path = null) =>
        Child(m, key) is YamlScalarNode s && !string.IsNullOrEmpty(s.Value)
            ? s.Value!
            : throw new SpecException($"missing key '{path ?? key}'");

    private static double RequiredNumber(YamlMappingNode m, string key, string path)
    {
        string s = RequiredScalar(m, key, path);
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new SpecException($"key '{path}' must be a finite number, got '{s}'");
        return v;
    }

    private static long RequiredInteger(YamlMappingNode m, string key, string path, long min, long max)
    {
        string s = RequiredScalar(m, key, path);
        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) || v < min || v > max)
            throw new SpecException($"key '{path}' must be an integer in [{min}, {max}], got '{s}'");
        return v;
    }

    /// <summary>YAML → JSON for run params: numbers stay numbers, lists and maps recurse; at most
    /// <see cref="MaxParamNodes"/> nodes, counted as aliases expand.</summary>
    private static JsonNode? ToJson(YamlNode node, string path, ref int nodes)
    {
        if (++nodes > MaxParamNodes)
            throw new SpecException($"key '{path}': the params expand to more than {MaxParamNodes} YAML nodes "
                + $"(aliases included)");
        switch (node)
        {
            case YamlSequenceNode q:
            {
                var array = new JsonArray();
                for (int i = 0; i < q.Children.Count; i++) array.Add(ToJson(q.Children[i], $"{path}[{i}]", ref nodes));
                return array;
            }
            case YamlMappingNode m:
            {
                var o = new JsonObject();
                foreach (var (k, v) in m.Children) o[Str(k)] = ToJson(v, $"{path}.{Str(k)}", ref nodes);
                return o;
            }
            default: return Scalar(node, path);
        }
    }

    private static JsonNode? Scalar(YamlNode node, string path) => node switch
    {
        YamlScalarNode s when s.Style is YamlDotNet.Core.ScalarStyle.SingleQuoted
            or YamlDotNet.Core.ScalarStyle.DoubleQuoted => JsonValue.Create(s.Value),
        YamlScalarNode s when s.Value is null or "" or "null" or "~" => null,
        YamlScalarNode s when s.Value is "true" or "false" => JsonValue.Create(s.Value == "true"),
        YamlScalarNode s when double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture,
            out double d) =>
            long.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l)
                ? JsonValue.Create(l) : JsonValue.Create(d),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => throw new SpecException($"key '{path}': unsupported YAML node"),
    };
}
