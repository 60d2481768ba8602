using RichLazyOrleans.Engine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using Orleans.Hosting;

namespace RichLazyOrleans.Silo;

/// <summary>
/// TLS for silo-to-silo and client-to-gateway connections (`--tls-cert`, `--tls-key`,
/// `--tls-password`, `--tls-ca`, each with a RICHLAZY_TLS_* fallback in <see cref="SiloEnvironment"/>).
/// Always mutual: every silo and every client presents <see cref="CertificatePath"/> and accepts a peer
/// only if the peer's certificate chains to <see cref="CaPath"/> (the system store when it is null).
/// </summary>
public sealed record TlsConfig
{
    /// <summary>
    /// PKCS#12 (.pfx/.p12, <see cref="Password"/> if it has one) or PEM (key in <see cref="KeyPath"/> or in the
    /// same file).
    /// </summary>
    public required string CertificatePath { get; init; }
    /// <summary>PEM private key of a PEM certificate; null: the key is in the certificate file.</summary>
    public string? KeyPath { get; init; }
    /// <summary>Password of a PKCS#12 file or of an encrypted PEM key.</summary>
    public string? Password { get; init; }
    /// <summary>PEM bundle of the CA certificate(s) peers must chain to; null: the system's trusted roots.</summary>
    public string? CaPath { get; init; }

    /// <summary>One line for the silo's start notice (no secrets).</summary>
    public string Describe() =>
        $"TLS on (mutual; peers must chain to {(CaPath is null ? "the system's trusted roots" : CaPath)})";
}

/// <summary>Bad TLS configuration, found before anything starts: one line for the user (exit 2).</summary>
public sealed class TlsConfigException(string message) : Exception(message);

/// <summary>A loaded <see cref="TlsConfig"/>: the local certificate with its key, the CA peers must chain to.</summary>
public sealed class LoadedTls(TlsConfig config, X509Certificate2 certificate, X509Certificate2Collection? ca)
{
    public TlsConfig Config { get; } = config;
    public X509Certificate2 Certificate { get; } = certificate;
    /// <summary>Trust anchors for peers; null: the system store.</summary>
    public X509Certificate2Collection? Ca { get; } = ca;
}

/// <summary>Loads TLS material with one-line errors, and applies it to Orleans silos and clients.</summary>
public static class SiloTls
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    /// <summary>
    /// Reads and checks the certificate, its key and the CA bundle. Every problem (missing or unreadable
    /// file, wrong password, no private key, expired, wrong key usage, not signed by the CA) is a
    /// <see cref="TlsConfigException"/> naming the flag and file, so a silo or client never starts half-configured.
    /// </summary>
    public static LoadedTls Load(TlsConfig config, DateTime? now = null)
    {
        string cert = config.CertificatePath;
        ReadableFile(cert, "--tls-cert");
        if (config.KeyPath is { } key) ReadableFile(key, "--tls-key");
        bool pem = config.KeyPath is not null || LooksLikePem(cert);
        X509Certificate2 certificate;
        try
        {
            certificate = pem
                ? config.Password is { Length: > 0 } pw
                    ? X509Certificate2.CreateFromEncryptedPemFile(cert, pw, config.KeyPath)
                    : X509Certificate2.CreateFromPemFile(cert, config.KeyPath)
                : X509CertificateLoader.LoadPkcs12FromFile(cert, config.Password);
        }
        catch (CryptographicException e) when (!pem)
        {
            throw new TlsConfigException($"--tls-cert {cert}: cannot open it as PKCS#12 (.pfx): "
                + $"wrong or missing password (--tls-password / ${SiloEnvironment.TlsPassword})? ({FirstLine(e)})");
        }
        catch (CryptographicException e) when (config.KeyPath is null)
        {
            throw new TlsConfigException($"--tls-cert {cert}: no private key in this PEM file; give it with --tls-key "
                + $"({FirstLine(e)})");
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // Bad PEM, a key that does not match the certificate, an encrypted key without its password.
            throw new TlsConfigException($"--tls-cert {cert} with --tls-key {config.KeyPath}: no usable certificate "
                + $"and private key ({FirstLine(e)})");
        }
        if (!certificate.HasPrivateKey)
            throw new TlsConfigException($"--tls-cert {cert}: the certificate has no private key "
                + "(PKCS#12: export it with the key; PEM: give the key with --tls-key)");
        var at = now ?? DateTime.Now;
        if (certificate.NotAfter < at)
            throw new TlsConfigException($"--tls-cert {cert}: the certificate expired on {certificate.NotAfter:u} "
                + $"(subject {certificate.Subject})");
        if (certificate.NotBefore > at)
            throw new TlsConfigException($"--tls-cert {cert}: the certificate is not valid before "
                + $"{certificate.NotBefore:u} (subject {certificate.Subject})");
        // A silo is a TLS server (inbound) and client (outbound to other silos); Orleans refuses the
        // certificate otherwise, with a stack trace at start.
        var eku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (eku is not null)
        {
            var usages = eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToHashSet();
            if (!usages.Contains(ServerAuth) || !usages.Contains(ClientAuth))
                throw new TlsConfigException($"--tls-cert {cert}: its extended key usage must include both "
                    + "serverAuth and clientAuth (silos are TLS servers and clients)");
        }

        X509Certificate2Collection? ca = null;
        if (config.CaPath is { } caPath)
        {
            ReadableFile(caPath, "--tls-ca");
            ca = [];
            try { ca.ImportFromPemFile(caPath); }
            catch (CryptographicException e)
            {
                throw new TlsConfigException($"--tls-ca {caPath}: not a PEM certificate bundle ({FirstLine(e)})");
            }
            if (ca.Count == 0) throw new TlsConfigException($"--tls-ca {caPath}: no PEM certificate in it");
            // Peers check this certificate against the same CA: refuse to start with one they would refuse.
            if (!ChainsTo(certificate, null, ca, out string why, at))
                throw new TlsConfigException($"--tls-cert {cert} does not chain to --tls-ca {caPath} ({why}); "
                    + "other silos and clients would refuse it");
        }
        return new LoadedTls(config, certificate, ca);
    }

    /// <summary>
    /// Does <paramref name="peer"/> chain to <paramref name="ca"/> (or, when null, to the system's trusted
    /// roots)? Host names are not checked: silos are addressed by IP and change addresses as pods move; trust is
    /// the CA.
    /// Revocation is not checked (self-managed CAs rarely publish CRLs; rotate the CA instead).
    /// </summary>
    public static bool ChainsTo(X509Certificate2 peer, X509Chain? presented, X509Certificate2Collection? ca,
        out string why, DateTime? at = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (at is { } t) chain.ChainPolicy.VerificationTime = t;
        if (ca is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(ca);
            chain.ChainPolicy.ExtraStore.AddRange(ca);   // intermediates in the bundle
        }
        // Intermediates the peer sent with its certificate.
        if (presented is not null)
            foreach (var element in presented.ChainElements.Skip(1))
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        bool ok = chain.Build(peer);
        why = ok ? "" : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct());
        return ok;
    }

    /// <summary>Mutual TLS as RichLazyOrleans uses it, for a silo (inbound and outbound) or a client.</summary>
    public static void Configure(TlsOptions options, LoadedTls tls)
    {
        options.LocalCertificate = tls.Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        // Our own validation replaces the platform's verdict (which includes a host-name mismatch).
        options.RemoteCertificateValidation = (certificate, chain, errors) =>
            ChainsTo(certificate, chain, tls.Ca, out _);
    }

    public static ISiloBuilder UseRichLazyTls(this ISiloBuilder silo, LoadedTls tls) =>
        silo.UseTls(o => Configure(o, tls));

    public static IClientBuilder UseRichLazyTls(this IClientBuilder client, LoadedTls tls) =>
        client.UseTls(o => Configure(o, tls));

    private static void ReadableFile(string path, string flag)
    {
        try { using var _ = File.OpenRead(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TlsConfigException($"{flag} {path}: no such file");
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new TlsConfigException($"{flag} {path}: cannot read it ({e.Message})");
        }
    }

    private static bool LooksLikePem(string path)
    {
        using var reader = new StreamReader(path);
        var buffer = new char[4096];
        int n = reader.Read(buffer, 0, buffer.Length);
        return new string(buffer, 0, n).Contains("-----BEGIN", StringComparison.Ordinal);
    }

    private static string FirstLine(Exception e) => e.Message.Split('\n')[0].Trim();
}
