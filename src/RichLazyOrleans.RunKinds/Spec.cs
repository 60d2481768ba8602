using System.Text.Json;
using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// Typed, validated access to a run spec (a JSON object). Every accessor names the key in its
/// error, and <see cref="RejectUnknownKeys"/> catches typos that would otherwise silently fall
/// back to a default.
/// </summary>
public sealed class Spec
{
    private readonly JsonObject _json;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public Spec(JsonObject json) => _json = json;

    /// <summary>
    /// Every key an accessor asked for so far, present or not (what <see cref="RejectUnknownKeys"/> accepts): a test
    /// holds it against the kind's declared <see cref="IRunKind.Keys"/>.
    /// </summary>
    public IReadOnlyCollection<string> ReadKeys => _read;

    /// <summary>The spec as given (for kinds that hand it on whole, like `command`).</summary>
    public JsonObject Json => _json;

    /// <summary>Reads and parses a spec file; every failure is a <see cref="SpecException"/> naming the file.</summary>
    public static Spec Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e)
            when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SpecException($"cannot read spec file '{path}': {e.Message}");
        }
        return Parse(text, $"spec file '{path}'");
    }

    public static Spec Parse(string text, string what = "spec")
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
            });
        }
        catch (JsonException e) { throw new SpecException($"{what} is not valid JSON: {e.Message.Split('\n')[0]}"); }
        if (node is not JsonObject obj) throw new SpecException($"{what} must be a JSON object {{...}}");
        return new Spec(obj);
    }

    public bool Has(string key) => _json.ContainsKey(key) && _json[key] is not null;

    public double Number(string key, double? fallback = null)
    {
        _read.Add(key);
        if (!Has(key))
        {
            if (fallback is { } f) return f;
            throw new SpecException($"missing key '{key}'");
        }
        return ToNumber(_json[key]!, key);
    }

    public double PositiveNumber(string key, double? fallback = null)
    {
        double v = Number(key, fallback);
        if (!(v > 0))
            throw new SpecException(
                $"key '{key}' must be > 0, got {v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
        return v;
    }

    /// <summary>An integer-valued number in [min, max].</summary>
    public long Integer(string key, long? fallback = null, long min = long.MinValue, long max = long.MaxValue)
    {
        double v = Number(key, fallback);
        if (v != Math.Floor(v) || v < min || v > max || Math.Abs(v) > 9.007199254740992e15)
            throw new SpecException($"key '{key}' must be an integer{(min > long.MinValue ? $" >= {min}" : "")}"
                + $"{(max < long.MaxValue ? $" and <= {max}" : "")}, "
                + $"got {v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
        return (long)v;
    }

    /// <summary>An optional string (null when absent).</summary>
    public string? OptionalString(string key)
    {
        _read.Add(key);
        if (!Has(key)) return null;
        if (_json[key] is not JsonValue v || !v.TryGetValue(out string? s) || s.Length == 0)
            throw new SpecException($"key '{key}' must be a non-empty string");
        return s;
    }

    public string String(string key, string fallback, params string[] allowed)
    {
        _read.Add(key);
        if (!Has(key)) return fallback;
        if (_json[key] is not JsonValue v || !v.TryGetValue(out string? s))
            throw new SpecException($"key '{key}' must be a string");
        if (allowed.Length > 0 && !allowed.Contains(s))
            throw new SpecException(
                $"key '{key}' must be one of {string.Join(", ", allowed.Select(a => $"'{a}'"))}, got '{s}'");
        return s;
    }

    /// <summary>A JSON array as given (its items checked by the caller), or null when the key is absent.</summary>
    public JsonArray? Array(string key)
    {
        _read.Add(key);
        if (!Has(key)) return null;
        return _json[key] as JsonArray ?? throw new SpecException($"key '{key}' must be a list");
    }

    /// <summary>A non-empty list of strings, each one of <paramref name="allowed"/>, in order, no repeats.</summary>
    public string[] Strings(string key, IReadOnlyCollection<string> allowed)
    {
        _read.Add(key);
        if (_json[key] is not JsonArray list || list.Count == 0)
            throw new SpecException($"key '{key}' must be a non-empty list of names");
        return list.Select((n, i) => n is JsonValue v && v.TryGetValue(out string? s) && allowed.Contains(s) ? s
            : throw new SpecException($"key '{key}'[{i}]: {n?.ToJsonString() ?? "null"} is not one of "
                + string.Join(", ", allowed))).Distinct().ToArray();
    }

    /// <summary>A boolean: JSON true/false (YAML true/false), or the strings "true"/"false".</summary>
    public bool Bool(string key, bool fallback)
    {
        _read.Add(key);
        if (!Has(key)) return fallback;
        if (_json[key] is JsonValue v)
        {
            if (v.GetValueKind() is JsonValueKind.True) return true;
            if (v.GetValueKind() is JsonValueKind.False) return false;
            if (v.TryGetValue(out string? s) && s is "true" or "false") return s == "true";
        }
        throw new SpecException($"key '{key}' must be true or false, got {_json[key]!.ToJsonString()}");
    }

    public double[] Vector(string key, int? length = null)
    {
        _read.Add(key);
        if (!Has(key)) throw new SpecException($"missing key '{key}'");
        if (_json[key] is not JsonArray arr) throw new SpecException($"key '{key}' must be an array of numbers");
        var v = arr.Select((x, i) => x is null
            ? throw new SpecException($"key '{key}'[{i}] is null")
            : ToNumber(x, $"{key}[{i}]")).ToArray();
        if (v.Length == 0) throw new SpecException($"key '{key}' must not be empty");
        if (length is { } n && v.Length != n)
            throw new SpecException($"key '{key}' must have {n} entries, got {v.Length}");
        return v;
    }

    /// <summary>A matrix given as an array of rows.</summary>
    public Matrix Matrix(string key, int? rows = null, int? cols = null, string shape = "")
    {
        _read.Add(key);
        if (!Has(key)) throw new SpecException($"missing key '{key}'");
        if (_json[key] is not JsonArray arr || arr.Any(r => r is not JsonArray))
            throw new SpecException($"key '{key}' must be a matrix given as an array of rows, e.g. [[1, 0], [0, 1]]");
        var data = arr.Select((r, i) => ((JsonArray)r!).Select((x, j) => x is null
            ? throw new SpecException($"key '{key}'[{i}][{j}] is null")
            : ToNumber(x, $"{key}[{i}][{j}]")).ToArray()).ToArray();
        int r0 = data.Length, c0 = r0 == 0 ? 0 : data[0].Length;
        if (r0 == 0 || c0 == 0) throw new SpecException($"key '{key}' must not be empty");
        for (int i = 0; i < r0; i++)
            if (data[i].Length != c0)
                throw new SpecException($"key '{key}': row {i} has {data[i].Length} entries, row 0 has {c0}");
        if ((rows is { } rr && rr != r0) || (cols is { } cc && cc != c0))
            throw new SpecException($"key '{key}' must be {shape} = {rows?.ToString() ?? "?"} x "
                + $"{cols?.ToString() ?? "?"}, got {r0} x {c0}");
        return Theory.Matrix.FromRows(data);
    }

    /// <summary>Output times: finite, ≥ 0, at least one.</summary>
    public double[] Times(string key = "times")
    {
        var t = Vector(key);
        for (int i = 0; i < t.Length; i++)
            if (t[i] < 0)
                throw new SpecException($"key '{key}'[{i}] must be >= 0, "
                    + $"got {t[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
        return t;
    }

    /// <summary>Fails on the first key that no accessor asked for.</summary>
    public void RejectUnknownKeys(params string[] alsoAllowed)
    {
        foreach (var key in _json.Select(kv => kv.Key))
            if (!_read.Contains(key) && !alsoAllowed.Contains(key))
                throw new SpecException(
                    $"unknown key '{key}' (known keys: {string.Join(", ", _read.Concat(alsoAllowed).Order())})");
    }

    private static double ToNumber(JsonNode node, string key)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            // Parsed JSON holds a JsonElement (any numeric type converts); values built in code hold
            // the CLR type they were made from (a sweep's YAML integers are longs).
            double? d = v.TryGetValue(out double x) ? x : v.TryGetValue(out long l) ? l : v.TryGetValue(out int i) ? i
                : v.TryGetValue(out decimal m) ? (double)m : v.TryGetValue(out float f) ? f : null;
            if (d is { } value)
            {
                if (!double.IsFinite(value)) throw new SpecException($"key '{key}' must be a finite number");
                return value;
            }
        }
        throw new SpecException($"key '{key}' must be a finite number, got {node.ToJsonString()}");
    }
}
