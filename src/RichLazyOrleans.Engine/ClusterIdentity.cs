namespace RichLazyOrleans.Engine;

/// <summary>
/// Which cluster this silo belongs to, for the results-directory lock: silos of one cluster may hand a sweep's
/// directory to each other (a coordinator restored elsewhere), other clusters may not. An embedded or local silo is
/// its own cluster (host and process); a Redis cluster is its cluster id at its Redis endpoints.
/// </summary>
public sealed record ClusterIdentity(string Id)
{
    public static ClusterIdentity ThisProcess() => new($"local:{Environment.MachineName}:{Environment.ProcessId}");
}
