namespace RichLazyOrleans;

/// <summary>
/// Bad user input, the one type for it in every kind: found by a spec parser, or by an engine when a data file, an
/// init file or a device does not fit. The message is one line that names the key or file; the CLI exits 2 with it,
/// a sweep refuses the spec, a run grain reports it as the run's failure.
/// </summary>
public sealed class SpecException : Exception
{
    public SpecException(string message) : base(message) { }

    /// <summary>Bad input at spec key <paramref name="key"/>: "key 'KEY': MESSAGE".</summary>
    public SpecException(string key, string message) : base($"key '{key}': {message}") => Key = key;

    /// <summary>The key at fault, when the engine that threw knew it.</summary>
    public string? Key { get; }
}
