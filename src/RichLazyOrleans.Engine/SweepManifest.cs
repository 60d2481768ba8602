using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RichLazyOrleans.Engine;

/// <summary>
/// DIR/manifest.json: what produced a sweep's results, so a figure can be traced to its code and machines: the
/// richlazy build (version and git commit), the spec's SHA-256, TorchSharp and libtorch versions, MKL's
/// reproducibility mode, the silos that wrote rows and the coordinator's host, start and end. Written when the
/// sweep starts and again when it ends (atomically; a failed write is logged, never fatal).
/// </summary>
public sealed record SweepManifest
{
    [JsonPropertyName("sweep_id")] public string SweepId { get; init; } = "";
    [JsonPropertyName("kind")] public string Kind { get; init; } = "";
    [JsonPropertyName("richlazy_version")] public string Version { get; init; } = "";
    [JsonPropertyName("git_commit")] public string? GitCommit { get; init; }
    [JsonPropertyName("spec_sha256")] public string SpecSha256 { get; init; } = "";
    [JsonPropertyName("torchsharp_version")] public string? TorchSharp { get; init; }
    [JsonPropertyName("libtorch_version")] public string? LibTorch { get; init; }
    [JsonPropertyName("mkl_cbwr")] public string? MklCbwr { get; init; }
    [JsonPropertyName("coordinator_host")] public string CoordinatorHost { get; init; } = "";
    [JsonPropertyName("silos")] public IReadOnlyList<string> Silos { get; init; } = [];
    [JsonPropertyName("state")] public string State { get; init; } = "";
    [JsonPropertyName("started_at")] public DateTime StartedAt { get; init; }
    [JsonPropertyName("finished_at")] public DateTime? FinishedAt { get; init; }

    public const string FileName = "manifest.json";

    /// <summary>The manifest of a sweep starting now (or restarted: the first start is kept).</summary>
    public static SweepManifest Begin(string resultsDir, string sweepId, string kind, string specYaml)
    {
        var earlier = Read(resultsDir);
        bool same = earlier is not null && earlier.SweepId == sweepId;
        string version = typeof(SweepManifest).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        return new SweepManifest
        {
            SweepId = sweepId,
            Kind = kind,
            Version = version,
            // The SDK appends the source revision to the informational version ("1.0.0+<commit>").
            GitCommit = version.Split('+') is [_, var commit] ? commit : null,
            SpecSha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(specYaml))),
            TorchSharp = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3),
            LibTorch = LibTorchVersion(),
            MklCbwr = Environment.GetEnvironmentVariable("MKL_CBWR"),
            CoordinatorHost = Environment.MachineName,
            Silos = same ? earlier!.Silos : [],
            State = "running",
            StartedAt = same ? earlier!.StartedAt : DateTime.UtcNow,
        };
    }

    /// <summary>The libtorch package this build resolved, from the app's dependency manifest (deps.json).</summary>
    private static string? LibTorchVersion()
    {
        try
        {
            var files = (AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string)?.Split(';')
                ?? Directory.GetFiles(AppContext.BaseDirectory, "*.deps.json");
            string rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
            foreach (var file in files.Where(File.Exists))
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file));
                if (!doc.RootElement.TryGetProperty("libraries", out var libraries)) continue;
                var names = libraries.EnumerateObject().Select(l => l.Name)
                    .Where(n => n.StartsWith("libtorch-", StringComparison.Ordinal) && n.Contains('/')).ToList();
                // This platform's package (libtorch-cpu-linux-x64/2.10.0), else any.
                string? name = names.FirstOrDefault(n => n.Contains(rid, StringComparison.Ordinal))
                    ?? names.FirstOrDefault();
                if (name is not null) return name;
            }
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { }
        return null;
    }

    public static SweepManifest? Read(string resultsDir)
    {
        try { return JsonSerializer.Deserialize<SweepManifest>(File.ReadAllText(Path.Combine(resultsDir, FileName))); }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Writes it atomically (temporary name, fsync, rename); false when it could not be written.</summary>
    public bool TryWrite(string resultsDir)
    {
        string path = Path.Combine(resultsDir, FileName);
        string tmp = Path.Combine(resultsDir, $".{FileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(resultsDir);
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                JsonSerializer.Serialize(fs, this, new JsonSerializerOptions { WriteIndented = true });
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        finally
        {
            try { if (File.Exists(tmp)) File.Delete(tmp); } catch (IOException) { }
        }
    }
}
