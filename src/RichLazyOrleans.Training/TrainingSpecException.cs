namespace RichLazyOrleans.Training;

/// <summary>
/// Bad input to a training run found by the engine (a data file that does not fit, a device that is
/// not there), naming the spec key at fault; the run kinds turn it into the one-line exit-2 error.
/// </summary>
public sealed class TrainingSpecException(string key, string message) : Exception($"key '{key}': {message}")
{
    public string Key { get; } = key;
}
