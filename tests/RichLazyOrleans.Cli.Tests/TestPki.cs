using RichLazyOrleans.Engine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// Certificates made by the test (System.Security.Cryptography, no openssl): CAs and leaf certificates signed by
/// them, written to a temporary folder as PEM (certificate, key) and PKCS#12 files.
/// </summary>
internal sealed class TestPki : IDisposable
{
    public const string PfxPassword = "s3cret-pfx";
    public string Dir { get; } = Directory.CreateTempSubdirectory("rl-tls-").FullName;

    /// <summary>A CA: its certificate as PEM (a --tls-ca bundle) and the signing certificate in memory.</summary>
    public sealed record Authority(string Name, X509Certificate2 Certificate, string CaPem);

    /// <summary>
    /// A leaf's files: PEM certificate, PEM key, PKCS#12 with <see cref="PfxPassword"/>, and a PKCS#12 of the
    /// certificate alone (no key).
    /// </summary>
    public sealed record Leaf(string Cert, string Key, string Pfx, string CertOnly);

    public Authority Ca(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(
            new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        var cert = req.CreateSelfSigned(now.AddDays(-30), now.AddDays(30));
        string pem = Path.Combine(Dir, $"{name}.crt");
        File.WriteAllText(pem, cert.ExportCertificatePem() + "\n");
        return new Authority(name, cert, pem);
    }

    /// <summary>A leaf signed by <paramref name="ca"/>, for TLS server and client use (silos are both).</summary>
    public Leaf Issue(Authority ca, string name, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null,
        bool serverAndClientAuth = true)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") };   // serverAuth
        if (serverAndClientAuth) usages.Add(new Oid("1.3.6.1.5.5.7.3.2"));   // clientAuth
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        req.CertificateExtensions.Add(
            X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca.Certificate, true, false));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var signed = req.Create(ca.Certificate, notBefore ?? now.AddDays(-1), notAfter ?? now.AddDays(10),
            RandomNumberGenerator.GetBytes(16));
        using var withKey = signed.CopyWithPrivateKey(key);
        var leaf = new Leaf(Path.Combine(Dir, $"{name}.crt"), Path.Combine(Dir, $"{name}.key"),
            Path.Combine(Dir, $"{name}.pfx"), Path.Combine(Dir, $"{name}-nokey.pfx"));
        File.WriteAllText(leaf.Cert, signed.ExportCertificatePem() + "\n");
        File.WriteAllText(leaf.Key, key.ExportPkcs8PrivateKeyPem() + "\n");
        File.WriteAllBytes(leaf.Pfx, withKey.Export(X509ContentType.Pfx, PfxPassword));
        File.WriteAllBytes(leaf.CertOnly, signed.Export(X509ContentType.Pfx, PfxPassword));   // no private key in it
        return leaf;
    }

    /// <summary>A PEM bundle of several CAs (a client that trusts both, to see which side refuses).</summary>
    public string Bundle(string name, params Authority[] cas)
    {
        string path = Path.Combine(Dir, name);
        File.WriteAllText(path, string.Concat(cas.Select(c => File.ReadAllText(c.CaPem))));
        return path;
    }

    public static string[] Flags(Leaf leaf, string ca) =>
        ["--tls-cert", leaf.Cert, "--tls-key", leaf.Key, "--tls-ca", ca];

    public void Dispose()
    {
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}
