using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bridge.DevKit;

/// <summary>
/// A self-signed TLS certificate for 127.0.0.1 and localhost, written as a PFX file that Kestrel's
/// <c>Kestrel:Certificates:Default</c> settings can load, for tests of HTTPS and HTTP/2 on loopback.
/// </summary>
public sealed class TestCertificate : IDisposable
{
    private TestCertificate(string path, string password, string thumbprint)
    {
        Path = path;
        Password = password;
        Thumbprint = thumbprint;
    }

    /// <summary>The PFX file.</summary>
    public string Path { get; }

    /// <summary>The PFX file's password.</summary>
    public string Password { get; }

    /// <summary>The certificate's SHA-1 thumbprint, for a client that trusts exactly this certificate.</summary>
    public string Thumbprint { get; }

    /// <summary>The settings that make the standalone server serve HTTPS with this certificate (section:key form).</summary>
    public IEnumerable<KeyValuePair<string, string>> KestrelSettings =>
    [
        new("Kestrel:Certificates:Default:Path", Path),
        new("Kestrel:Certificates:Default:Password", Password),
    ];

    /// <summary>
    /// A client handler that trusts exactly this certificate, and calls <paramref name="connected"/> for every TCP
    /// connection it opens, so a test can count them.
    /// </summary>
    public SocketsHttpHandler TrustingHandler(Action? connected = null) => new()
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == Thumbprint },
        ConnectCallback = async (context, cancellationToken) =>
        {
            connected?.Invoke();
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    public static TestCertificate Create()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Bridge test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"bridge-test-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return new TestCertificate(path, password, certificate.Thumbprint);
    }

    public void Dispose() => File.Delete(Path);
}
