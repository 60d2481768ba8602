using System.Text.Json.Nodes;

namespace RichLazyOrleans.RunKinds;

/// <summary>Whether a run reads a path (data, initial weights) or writes under it (checkpoints, images).</summary>
public enum PathUse { Read, Write }

/// <summary>A spec key that names a file or directory. <see cref="RelativeTo"/>: a relative value is taken
/// inside the directory another key names (an IDX file inside `data_dir`).</summary>
/// <param name="Implicit">File names looked for under <paramref name="RelativeTo"/> when the key is not given (a
/// kind's standard names): they are checked too, so a link planted under that name cannot lead outside.</param>
public sealed record PathKey(string Key, PathUse Use, string? RelativeTo = null,
    IReadOnlyList<string>? Implicit = null);

/// <summary>A path a spec names, resolved as the run will use it.</summary>
public sealed record SpecPath(string Key, string Path, PathUse Use);

/// <summary>
/// Where a silo may write (results, checkpoints, images) and read (data). The gateway does not authenticate,
/// so whoever reaches it chooses the paths of a sweep: a long-lived silo confines them to the roots it was
/// started with, and refuses anything else with one line before a run starts. Reads are allowed under
/// either root (a run reads its own checkpoints back). Null roots: no confinement (the embedded silo of
/// `sweep run`, which runs as the person typing it).
/// <para>Paths are compared after symbolic links are resolved (a link inside a root pointing outside it is
/// outside). `..` segments are refused outright: after a link, `..` means something else to the kernel than
/// to a lexical normaliser. Left open: a link created inside a root after the check (time of check, time of
/// use); whoever can write links inside the roots is trusted.</para>
/// </summary>
public sealed record PathRoots(string? Results, string? Data)
{
    public static PathRoots Unconfined { get; } = new(null, null);

    public bool Confined => Results is not null || Data is not null;

    /// <summary>Roots as given on the command line: made absolute, links resolved; the results root is created.
    /// </summary>
    public static PathRoots Create(string results, string data)
    {
        Directory.CreateDirectory(results);
        return new PathRoots(RealPath(results), RealPath(data));
    }

    /// <summary>Throws a one-line <see cref="SpecException"/> when <paramref name="path"/> (named by
    /// <paramref name="key"/>) is outside the roots its use allows.</summary>
    public void Check(string key, string path, PathUse use)
    {
        if (!Confined) return;
        string what = key.StartsWith("--") ? key : $"key '{key}'";   // a command-line option, or a spec key
        if (path.Split('/', '\\').Contains(".."))
            throw new SpecException($"{what}: '..' is not allowed in paths on a shared silo, got '{path}'");
        string real = RealPath(path);
        bool allowed = use == PathUse.Write ? Under(real, Results) : Under(real, Data) || Under(real, Results);
        if (allowed) return;
        string roots = use == PathUse.Write ? $"results root {Results ?? "(none)"} (--results-root)"
            : $"data root {Data ?? "(none)"} (--data-root) or results root {Results ?? "(none)"} (--results-root)";
        throw new SpecException($"{what}: {real} is outside this silo's {roots}");
    }

    /// <summary>Checks every path a run spec of <paramref name="kind"/> names.</summary>
    public void Check(IRunKind kind, JsonObject spec)
    {
        if (!Confined) return;
        foreach (var p in Of(kind, spec)) Check(p.Key, p.Path, p.Use);
    }

    /// <summary>The paths a run spec names (string values of the kind's path keys), resolved as the run will.</summary>
    public static IEnumerable<SpecPath> Of(IRunKind kind, JsonObject spec)
    {
        foreach (var key in kind.PathKeys)
        {
            if (!TryString(spec, key.Key, out string? path))
            {
                // The file the kind will open under its standard name (the first that exists, a link included).
                if (key is { RelativeTo: { } dirKey, Implicit: { } names } && TryString(spec, dirKey, out string? dir)
                    && names.Select(n => System.IO.Path.Combine(dir!, n))
                        .FirstOrDefault(f => File.Exists(f) || new FileInfo(f).LinkTarget is not null) is { } file)
                    yield return new SpecPath(key.Key, file, key.Use);
                continue;
            }
            if (key.RelativeTo is { } baseKey && !System.IO.Path.IsPathRooted(path)
                && TryString(spec, baseKey, out string? baseDir))
                path = System.IO.Path.Combine(baseDir!, path!);
            yield return new SpecPath(key.Key, path!, key.Use);
        }
    }

    private static bool TryString(JsonObject spec, string key, out string? value)
    {
        value = spec[key] is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0 ? s : null;
        return value is not null;
    }

    private static bool Under(string real, string? root) => root is not null
        && (real == root || real.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal));

    /// <summary>
    /// The absolute path with every symbolic link along it resolved (like realpath(3), but the tail that does
    /// not exist yet is kept as given). A path too strange to resolve (a link loop) is a one-line error.
    /// </summary>
    public static string RealPath(string path) => RealPath(path, path, 0);

    private static string RealPath(string path, string given, int links)
    {
        string full;
        try { full = System.IO.Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new SpecException($"'{given}' is not a valid path ({e.Message.Split('\n')[0]})");
        }
        string current = System.IO.Path.GetPathRoot(full)!;
        var parts = full[current.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            string next = System.IO.Path.Combine(current, parts[i]);
            var info = new FileInfo(next);   // lstat: a link is seen as a link, even a dangling one
            if (info.LinkTarget is { } target)
            {
                // 40 links, as Linux's own limit, so a loop ends in an error instead of a hang.
                if (links >= 40) throw new SpecException($"'{given}': too many levels of symbolic links");
                string dir = System.IO.Path.GetDirectoryName(next)!;
                current = RealPath(System.IO.Path.Combine(dir, target), given, links + 1);
            }
            else if (info.Exists || Directory.Exists(next)) current = next;
            else return System.IO.Path.Combine([next, .. parts[(i + 1)..]]);   // nothing below can be a link yet
        }
        return current;
    }
}
