namespace RichLazyOrleans.Silo;

/// <summary>
/// The environment variables a `richlazy silo` process reads (each is the fallback of a CLI flag),
/// and its default ports. Containers, compose files and Kubernetes manifests set these; the
/// manifest tests check that every RICHLAZY_* variable they set is one of these.
/// </summary>
public static class SiloEnvironment
{
    public const string Redis = "RICHLAZY_REDIS";                 // --redis: StackExchange.Redis configuration string
    public const string Slots = "RICHLAZY_SLOTS";                 // --slots: runs this silo may hold at once
    public const string SiloPort = "RICHLAZY_SILO_PORT";          // --port: silo-to-silo port
    public const string GatewayPort = "RICHLAZY_GATEWAY_PORT";    // --gateway: client gateway port
    public const string Advertise = "RICHLAZY_ADVERTISE";         // --advertise: IP or host name other silos and
                                                                  // clients reach this silo at
    public const string ListenAny = "RICHLAZY_LISTEN_ANY";        // --listen-any: bind 0.0.0.0 instead of the
                                                                  // advertised address
    public const string Kubernetes = "RICHLAZY_KUBERNETES";       // --kubernetes: Orleans Kubernetes hosting (POD_NAME,
                                                                  // POD_NAMESPACE, POD_IP)
    public const string HttpPort = "RICHLAZY_HTTP_PORT";          // --http-port: /healthz, /readyz (and /dashboard)
    public const string HttpBind = "RICHLAZY_HTTP_BIND";          // --http-bind: address of the HTTP listener (default
                                                                  // 127.0.0.1)
    public const string Dashboard = "RICHLAZY_DASHBOARD";         // --dashboard: Orleans Dashboard at /dashboard on the
                                                                  // HTTP port
    public const string ShutdownSeconds = "RICHLAZY_SHUTDOWN_SECONDS";   // --shutdown-seconds: time to checkpoint
                                                                         // running runs on SIGTERM
    public const string HttpToken = "RICHLAZY_HTTP_TOKEN";        // --http-token: the dashboard's token
    public const string InsecureHttp = "RICHLAZY_INSECURE_HTTP";  // --insecure-http: no token beyond loopback
    public const string Gpus = "RICHLAZY_GPUS";                   // --gpus: a slot per GPU (0,1,… or all)
    public const string AllowCommands = "RICHLAZY_ALLOW_COMMANDS"; // --allow-commands: execute `command` runs
    public const string ResultsRoot = "RICHLAZY_RESULTS_ROOT";    // --results-root: the only place sweeps may write
    public const string DataRoot = "RICHLAZY_DATA_ROOT";          // --data-root: where runs may read data
    // TLS (SiloTls): read by silos and by clients (sweep submit/status/watch/..., sweep run --redis) alike.
    public const string TlsCert = "RICHLAZY_TLS_CERT";            // --tls-cert: own certificate (PKCS#12 or PEM)
    public const string TlsKey = "RICHLAZY_TLS_KEY";              // --tls-key: PEM private key of a PEM certificate
    public const string TlsPassword = "RICHLAZY_TLS_PASSWORD";    // --tls-password: PKCS#12 or PEM key password
    public const string TlsCa = "RICHLAZY_TLS_CA";                // --tls-ca: PEM CA bundle peers must chain to
    // Host names the HTTP listener answers besides its own
    public const string HttpHosts = "RICHLAZY_HTTP_HOSTS";

    /// <summary>Every variable above, with what it means.</summary>
    public static IReadOnlyDictionary<string, string> Variables { get; } = new Dictionary<string, string>
    {
        [Redis] = "the cluster's Redis: HOST:PORT[,password=...][,ssl=true] (membership, grain state, reminders)",
        [Slots] = "runs this silo executes at once (GPU nodes: one per GPU)",
        [SiloPort] = $"silo-to-silo port (default {DefaultSiloPort})",
        [GatewayPort] = $"client gateway port (default {DefaultGatewayPort})",
        [Advertise] = "IP address or host name this silo is reached at (default 127.0.0.1)",
        [ListenAny] = "true: listen on all interfaces (containers), advertising RICHLAZY_ADVERTISE",
        [Kubernetes] = "true: Orleans Kubernetes hosting; reads POD_NAME, POD_NAMESPACE, POD_IP, ORLEANS_CLUSTER_ID, "
            + "ORLEANS_SERVICE_ID",
        [HttpPort] = "HTTP port for /healthz (liveness), /readyz (readiness), the live sweep pages /sweeps "
            + $"(loopback, or with a token) and, with the dashboard, /dashboard (default {DefaultHttpPort} "
            + "when the dashboard is on; off otherwise)",
        [HttpBind] = "address the HTTP listener binds (default 127.0.0.1; 0.0.0.0 in pods so probes reach it)",
        [Dashboard] = "true: serve the Orleans Dashboard at /dashboard on the HTTP port",
        [ShutdownSeconds] = "seconds a SIGTERM may take to checkpoint running runs and leave "
            + $"(default {DefaultShutdownSeconds}); keep the pod's grace period above it",
        [HttpToken] = "token (16+ characters) the dashboard asks for: `Authorization: Bearer TOKEN`, or open "
            + "/dashboard?token=TOKEN once in a browser; needed when the dashboard is served beyond loopback",
        [InsecureHttp] = "true: serve the dashboard beyond loopback without a token (a network you trust)",
        [Gpus] = "GPUs to give a slot each, beside the CPU slots: 0,1,2,3 or all (what nvidia-smi lists); each run "
            + "that asks for a GPU (device: cuda, or auto) is pinned to its slot's GPU",
        [AllowCommands] = "true: execute `command` runs (the programs of anyone who reaches the gateway, as this "
            + "silo's user); off by default",
        [ResultsRoot] = "directory every path a sweep writes (--out, checkpoint_dir, filters_dir) must be under "
            + "(default ./results); anything else is refused with one line",
        [DataRoot] = "directory data paths (data_dir, train_images, inputs, init_w, ...) must be under, or the results "
            + "root (default ./data)",
        [TlsCert] = "path of this silo's (or client's) certificate with its private key: PKCS#12 (.pfx/.p12) or PEM; "
            + "set: mutual TLS on silo-to-silo and client connections (every silo and client of a cluster needs it)",
        [TlsKey] = "path of the PEM private key when RICHLAZY_TLS_CERT is a PEM certificate without its key",
        [TlsPassword] = "password of the PKCS#12 file (or of an encrypted PEM key)",
        [TlsCa] = "path of a PEM bundle of the CA certificate(s) peers must chain to "
            + "(default: the system's trusted roots); host names are not checked",
        [HttpHosts] = "comma-separated host names the HTTP listener answers to besides localhost, 127.0.0.1, ::1 "
            + "and its bind address (a listener on loopback refuses any other Host header: DNS rebinding)",
    };

    /// <summary>Variables Orleans' Kubernetes hosting reads (set from the downward API).</summary>
    public static IReadOnlyList<string> KubernetesVariables { get; } =
        ["POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_CLUSTER_ID", "ORLEANS_SERVICE_ID"];

    public const int DefaultSiloPort = 11111;
    public const int DefaultGatewayPort = 30000;
    public const int DefaultHttpPort = 8080;
    public const int DefaultShutdownSeconds = 60;
    public const string LivenessPath = "/healthz";
    public const string ReadinessPath = "/readyz";
    public const string DashboardPath = "/dashboard";
}
