namespace RichLazyOrleans;

/// <summary>
/// Bad user input, the one type for it everywhere: found by the sweep spec parser, a kind's spec parser, a sweep's
/// checks before it starts (paths, memory, the results directory), or by an engine when a data file, an init file
/// or a device does not fit. The message is one line that names the key (with its path: `params.lr`,
/// `axes.width.integer`) or file; the CLI exits 2 with it, a coordinator refuses the sweep with it (it crosses the
/// grain call as itself), a run grain reports it as the run's failure.
/// </summary>
public sealed class SpecException : Exception
{
    public SpecException(string message) : base(message) { }

    /// <summary>Bad input at spec key <paramref name="key"/>: "key 'KEY': MESSAGE".</summary>
    public SpecException(string key, string message) : base($"key '{key}': {message}") => Key = key;

    private SpecException(string message, string? key, bool _) : base(message) => Key = key;

    /// <summary>The key at fault, when the engine that threw knew it.</summary>
    public string? Key { get; }

    /// <summary>The exception as it was, from its message and key (a serializer's way back).</summary>
    public static SpecException Restore(string message, string? key) => new(message, key, true);
}
