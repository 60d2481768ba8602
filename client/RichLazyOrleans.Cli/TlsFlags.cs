using RichLazyOrleans.Engine;
using System.CommandLine;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Silo;

namespace RichLazyOrleans.Cli;

/// <summary>
/// `--tls-cert`, `--tls-key`, `--tls-password`, `--tls-ca`, each falling back to its RICHLAZY_TLS_* variable:
/// one set of flags for `richlazy silo` and every client command, so silos and clients read TLS the same way.
/// </summary>
internal sealed class TlsFlags
{
    private readonly Option<string?> _cert = new("--tls-cert")
    {
        Description = "mutual TLS: this process's certificate with its key, PKCS#12 (.pfx) or PEM "
            + $"(${SiloEnvironment.TlsCert}); every silo and client of the cluster needs one",
        DefaultValueFactory = _ => Env(SiloEnvironment.TlsCert),
    };
    private readonly Option<string?> _key = new("--tls-key")
    {
        Description = $"PEM private key of a PEM --tls-cert (${SiloEnvironment.TlsKey}; "
            + "default: in the certificate file)",
        DefaultValueFactory = _ => Env(SiloEnvironment.TlsKey),
    };
    private readonly Option<string?> _password = new("--tls-password")
    {
        Description = $"password of the PKCS#12 file or encrypted PEM key (prefer ${SiloEnvironment.TlsPassword}: "
            + "a command line is visible to other users)",
        DefaultValueFactory = _ => Env(SiloEnvironment.TlsPassword),
    };
    private readonly Option<string?> _ca = new("--tls-ca")
    {
        Description = $"PEM CA bundle peers' certificates must chain to (${SiloEnvironment.TlsCa}; "
            + "default: the system's trusted roots); host names are not checked",
        DefaultValueFactory = _ => Env(SiloEnvironment.TlsCa),
    };

    /// <summary>The four options, to add to a command.</summary>
    public IEnumerable<Option> Options => [_cert, _key, _password, _ca];

    /// <summary>Adds the flags to each command.</summary>
    public TlsFlags AddTo(params Command[] commands)
    {
        foreach (var c in commands)
            foreach (var o in Options) c.Options.Add(o);
        return this;
    }

    /// <summary>The TLS configuration the flags name; null when no certificate is given (plain TCP).</summary>
    public TlsConfig? Read(ParseResult p)
    {
        string? cert = p.GetValue(_cert), key = p.GetValue(_key), password = p.GetValue(_password);
        string? ca = p.GetValue(_ca);
        if (cert is null)
        {
            // A key or CA alone would silently mean "no TLS": say so instead.
            if (key is not null || ca is not null)
                throw new SpecException($"--tls-key and --tls-ca need --tls-cert (or ${SiloEnvironment.TlsCert}): "
                    + "TLS here is mutual, every silo and client presents a certificate");
            return null;
        }
        return new TlsConfig { CertificatePath = cert, KeyPath = key, Password = password, CaPath = ca };
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
