using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Engine;

/// <summary>
/// Whether this silo runs `command` runs: programs of whoever can reach the gateway, executed as the silo's user.
/// A long-lived silo does so only when started with `--allow-commands`; the embedded silo of `sweep run` (the
/// person's own process) always does.
/// </summary>
public sealed record CommandPolicy(bool Allowed)
{
    public static CommandPolicy Allow { get; } = new(true);

    /// <summary>Refuses (one line) a run of <paramref name="kind"/> this silo may not execute.</summary>
    public void Check(string kind)
    {
        if (!Allowed && RunKindRegistry.Get(kind).Open)
            throw new SpecException($"kind '{kind}': this silo does not run programs; start it with --allow-commands "
                + "(anyone who reaches its gateway can then run any program as its user)");
    }
}
