/// The gateway's whole configuration: an immutable, validated snapshot.
///
/// Built by ``ConfigurationLoader`` from YAML; every value here has already been checked,
/// so the data plane never has to validate again.
public struct GatewayConfig: Sendable, Equatable {
    /// Address of the plain-HTTP listener (`listen: 127.0.0.1:8080`).
    public var listen: ListenAddress
    /// Number of event-loop threads; `nil` means one per CPU core.
    public var workers: Int?
    /// How long in-flight requests may run after SIGTERM before connections are closed.
    public var drainTimeout: Duration
    /// Whether one JSON access-log line is written per request.
    public var accessLog: Bool
    /// Settings every service inherits unless it overrides them.
    public var defaults: ServiceSettings
    /// Services by their canonical name.
    public var services: [String: ServiceConfig]
    /// Alias name → canonical service name (every target exists in `services`).
    public var aliases: [String: String]
    /// The TLS listener, served next to `listen`; `nil` when the gateway serves plain HTTP only.
    public var tls: TLSListener?
    /// What the plain `listen` does when `tls` is set; always `.serve` without `tls`.
    public var plainHTTP: PlainHTTPMode
    /// Limits on client connections and request heads (both listeners).
    public var limits: ClientLimits
    /// How client request headers are screened.
    public var headers: HeaderPolicy
    /// Peers whose `X-Forwarded-*` headers are kept and appended to; everyone else's are replaced.
    public var trustedProxies: [CIDR]
    /// Upgraded (WebSocket) connections.
    public var websocket: WebSocketSettings
    /// Where `/socket.io/...` goes; `nil` when nothing relays Socket.IO.
    public var socketIO: SocketIOSettings?

    /// Creates it; each parameter defaults to the value documented on its property.
    public init(
        listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 8080),
        workers: Int? = nil,
        drainTimeout: Duration = .seconds(30),
        accessLog: Bool = true,
        defaults: ServiceSettings = ServiceSettings(),
        services: [String: ServiceConfig] = [:],
        aliases: [String: String] = [:],
        tls: TLSListener? = nil,
        plainHTTP: PlainHTTPMode = .serve,
        limits: ClientLimits = ClientLimits(),
        headers: HeaderPolicy = HeaderPolicy(),
        trustedProxies: [CIDR] = [],
        websocket: WebSocketSettings = WebSocketSettings(),
        socketIO: SocketIOSettings? = nil
    ) {
        self.listen = listen
        self.workers = workers
        self.drainTimeout = drainTimeout
        self.accessLog = accessLog
        self.defaults = defaults
        self.services = services
        self.aliases = aliases
        self.tls = tls
        self.plainHTTP = plainHTTP
        self.limits = limits
        self.headers = headers
        self.trustedProxies = trustedProxies
        self.websocket = websocket
        self.socketIO = socketIO
    }

    /// Whether `address` (an IP literal, as a peer's socket address gives it) is a trusted proxy.
    public func isTrustedProxy(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}

/// `tls:` — a second listener that terminates TLS.
public struct TLSListener: Sendable, Equatable {
    /// Address of the TLS listener (`0.0.0.0:8443` by default).
    public var listen: ListenAddress
    /// Path of the PEM certificate chain, leaf first.
    public var certificate: String
    /// Path of the PEM private key.
    public var key: String
    /// Offer `h2` by ALPN; `http/1.1` is always offered.
    public var http2: Bool

    /// Creates it; each parameter defaults to the value documented on its property.
    public init(
        listen: ListenAddress = ListenAddress(host: "0.0.0.0", port: 8443),
        certificate: String,
        key: String,
        http2: Bool = true
    ) {
        self.listen = listen
        self.certificate = certificate
        self.key = key
        self.http2 = http2
    }
}

/// `plainHTTP:` — what the plain `listen` does when a TLS listener is configured.
public enum PlainHTTPMode: String, Sendable, Equatable, CaseIterable {
    /// Serve requests as usual.
    case serve
    /// Answer every request with 308 to `https://host[:tlsport]/path`.
    case redirect
    /// Do not open the plain listener at all.
    case off
}

/// `limits:` (top level) — limits on client connections, applied before any routing.
public struct ClientLimits: Sendable, Equatable {
    /// Request line plus headers; beyond it 431.
    public var maxHeaderBytes: Int
    /// Time allowed to receive a complete request head; slower clients are disconnected.
    public var headerTimeout: Duration
    /// An idle keep-alive client connection is closed after this.
    public var keepAliveTimeout: Duration
    /// Concurrent client connections; beyond it new ones are closed at once.
    public var maxConnections: Int
    /// HTTP/2 streams one client connection may have open at once.
    public var http2MaxConcurrentStreams: Int
    /// Largest HTTP/2 header list (uncompressed) a client may send.
    public var http2MaxHeaderListSize: Int

    /// Creates it; each parameter defaults to the value documented on its property.
    public init(
        maxHeaderBytes: Int = 64 * 1024,
        headerTimeout: Duration = .seconds(10),
        keepAliveTimeout: Duration = .seconds(75),
        maxConnections: Int = 10_000,
        http2MaxConcurrentStreams: Int = 100,
        http2MaxHeaderListSize: Int = 64 * 1024
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.headerTimeout = headerTimeout
        self.keepAliveTimeout = keepAliveTimeout
        self.maxConnections = maxConnections
        self.http2MaxConcurrentStreams = http2MaxConcurrentStreams
        self.http2MaxHeaderListSize = http2MaxHeaderListSize
    }
}

/// `headers:` — screening of client request headers.
public struct HeaderPolicy: Sendable, Equatable {
    /// What happens to header names containing `_`.
    public var underscores: UnderscorePolicy

    /// Creates it; each parameter defaults to the value documented on its property.
    public init(underscores: UnderscorePolicy = .allow) {
        self.underscores = underscores
    }
}

/// `headers.underscores:` — header names with `_` can smuggle past proxies that map `-` and `_` to one name.
public enum UnderscorePolicy: String, Sendable, Equatable, CaseIterable {
    /// Forward them unchanged.
    case allow
    /// Remove such headers before forwarding.
    case drop
    /// Answer 400.
    case reject
}

/// `websocket:` — connections upgraded with `101 Switching Protocols`.
public struct WebSocketSettings: Sendable, Equatable {
    /// An upgraded connection with no bytes in either direction for this long is closed.
    public var idleTimeout: Duration

    /// Creates it; each parameter defaults to the value documented on its property.
    public init(idleTimeout: Duration = .seconds(600)) {
        self.idleTimeout = idleTimeout
    }
}

/// `socketIO:` — the Socket.IO relay.
public struct SocketIOSettings: Sendable, Equatable {
    /// Canonical name of the service `/socket.io/...` is forwarded to (it exists in `services`).
    public var service: String

    /// Creates it; each parameter defaults to the value documented on its property.
    public init(service: String) {
        self.service = service
    }
}

/// A host and port to listen on.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP literal.
    public var host: String
    /// TCP port.
    public var port: Int

    /// Creates it; each parameter defaults to the value documented on its property.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// A readable form, as written in the configuration.
    public var description: String { host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// One upstream service: where it lives and how the gateway talks to it.
public struct ServiceConfig: Sendable, Equatable {
    /// Canonical name, as in `/api/{name}/…`.
    public var name: String
    /// The service's endpoints (`url:` gives one, `urls:` several); never empty.
    public var endpoints: [UpstreamURL]
    /// Effective settings: the defaults with this service's overrides applied.
    public var settings: ServiceSettings

    /// The first endpoint; the only one for a service configured with `url:`.
    public var url: UpstreamURL { endpoints[0] }

    /// A service with one endpoint.
    public init(name: String, url: UpstreamURL, settings: ServiceSettings = ServiceSettings()) {
        self.init(name: name, endpoints: [url], settings: settings)
    }

    /// A service with several endpoints (at least one).
    public init(name: String, endpoints: [UpstreamURL], settings: ServiceSettings = ServiceSettings()) {
        precondition(!endpoints.isEmpty, "a service needs at least one endpoint")
        self.name = name
        self.endpoints = endpoints
        self.settings = settings
    }
}

/// An upstream base URL, split into the parts the pool and the path rewriter need.
public struct UpstreamURL: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`.
    public var scheme: String
    /// Host name or IP literal, without brackets.
    public var host: String
    /// Port; the scheme's default when the URL has none.
    public var port: Int
    /// Path prefix prepended to every forwarded path; empty or starting with `/`, never ending with `/`.
    public var basePath: String

    /// Creates it; each parameter defaults to the value documented on its property.
    public init(scheme: String = "http", host: String, port: Int, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// `host:port`, bracketing IPv6 literals, as used in a `Host` header or a `Location` comparison.
    public var authority: String { host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// A readable form, as written in the configuration.
    public var description: String { "\(scheme)://\(authority)\(basePath)" }
}

/// Per-service behaviour; every key may be set under `defaults:` or on a service.
public struct ServiceSettings: Sendable, Equatable {
    /// `timeouts:` — connect, response headers, idle.
    public var timeouts: Timeouts
    /// `pool:` — the keep-alive pool per endpoint.
    public var pool: Pool
    /// `retries:` — attempts, backoff, replay buffer and budget.
    public var retries: Retries
    /// Responses slower than this are logged as warnings.
    public var slowThreshold: Duration
    /// Follow upstream 3xx redirects instead of passing them to the client.
    public var followRedirects: Bool
    /// Most redirects followed for one request when `followRedirects` is on.
    public var maxRedirects: Int
    /// How a request picks one of several endpoints.
    public var balancing: Balancing
    /// Active health checks; `nil` when the service has none (`healthCheck: false`, or absent everywhere).
    /// `healthCheck: true` enables the inherited or built-in check as it is.
    public var healthCheck: HealthCheck?
    /// Passive ejection of endpoints that keep failing.
    public var outlierDetection: OutlierDetection
    /// Admission limits; beyond them 503 at once.
    public var limits: Limits
    /// Largest request body in bytes, checked against `Content-Length` and while streaming (then 413); 0 = unlimited.
    public var maxBodySize: Int
    /// How `https` endpoints are verified; unused for `http` ones.
    public var upstreamTLS: UpstreamTLS

    /// Creates it; each parameter defaults to the value documented on its property.
    public init(
        timeouts: Timeouts = Timeouts(),
        pool: Pool = Pool(),
        retries: Retries = Retries(),
        slowThreshold: Duration = .seconds(10),
        followRedirects: Bool = false,
        maxRedirects: Int = 5,
        balancing: Balancing = .leastRequest,
        healthCheck: HealthCheck? = nil,
        outlierDetection: OutlierDetection = OutlierDetection(),
        limits: Limits = Limits(),
        maxBodySize: Int = 100 * 1024 * 1024,
        upstreamTLS: UpstreamTLS = UpstreamTLS()
    ) {
        self.timeouts = timeouts
        self.pool = pool
        self.retries = retries
        self.slowThreshold = slowThreshold
        self.followRedirects = followRedirects
        self.maxRedirects = maxRedirects
        self.balancing = balancing
        self.healthCheck = healthCheck
        self.outlierDetection = outlierDetection
        self.limits = limits
        self.maxBodySize = maxBodySize
        self.upstreamTLS = upstreamTLS
    }
}

extension ServiceSettings {
    /// `timeouts:` — connect, response headers, and silence between body chunks.
    public struct Timeouts: Sendable, Equatable {
        /// Time allowed to establish a TCP connection (then 502).
        public var connect: Duration
        /// Time allowed from sending the request until the response head arrives (then 504).
        public var response: Duration
        /// Longest silence between body chunks in either direction.
        public var idle: Duration

        /// Creates it; each parameter defaults to the value documented on its property.
        public init(connect: Duration = .seconds(10), response: Duration = .seconds(120), idle: Duration = .seconds(120)) {
            self.connect = connect
            self.response = response
            self.idle = idle
        }
    }

    /// `pool:` — the gateway's own keep-alive pool per endpoint.
    public struct Pool: Sendable, Equatable {
        /// Most connections to one endpoint, split evenly across event loops.
        public var maxConnections: Int
        /// Idle connections are closed after this; keep it below the upstream's keep-alive.
        public var idleTimeout: Duration
        /// Most requests waiting for a connection when the pool is full (then 503).
        public var maxQueue: Int
        /// Longest wait for a connection when the pool is full (then 503).
        public var queueTimeout: Duration

        /// Creates it; each parameter defaults to the value documented on its property.
        public init(
            maxConnections: Int = 50,
            idleTimeout: Duration = .seconds(4),
            maxQueue: Int = 256,
            queueTimeout: Duration = .seconds(10)
        ) {
            self.maxConnections = maxConnections
            self.idleTimeout = idleTimeout
            self.maxQueue = maxQueue
            self.queueTimeout = queueTimeout
        }
    }

    /// `retries:` — how failed upstream attempts are repeated.
    public struct Retries: Sendable, Equatable {
        /// All tries counted, the first included (3 = two retries).
        public var attempts: Int
        /// Base delay before retrying a connect failure; doubles per retry, with jitter.
        public var backoff: Duration
        /// Request bodies up to this many bytes are kept for replay on a stale connection.
        public var replayBuffer: Int
        /// Retries in flight may add at most this fraction on top of the requests in flight (`20%` = 0.2),
        /// so that retries cannot amplify an outage.
        public var budget: Double
        /// Retries always allowed in flight, whatever the budget says (so a quiet service can still retry).
        public var minRetryConcurrency: Int

        /// Creates it; each parameter defaults to the value documented on its property.
        public init(
            attempts: Int = 3,
            backoff: Duration = .milliseconds(500),
            replayBuffer: Int = 64 * 1024,
            budget: Double = 0.2,
            minRetryConcurrency: Int = 3
        ) {
            self.attempts = attempts
            self.backoff = backoff
            self.replayBuffer = replayBuffer
            self.budget = budget
            self.minRetryConcurrency = minRetryConcurrency
        }
    }

    /// `balancing:` — `roundRobin` or `leastRequest` (power of two random choices).
    public enum Balancing: String, Sendable, Equatable, CaseIterable {
        case roundRobin
        case leastRequest
    }

    /// `healthCheck:` — active checks, run in the background, never on the request path.
    public struct HealthCheck: Sendable, Equatable {
        /// Path requested with GET on each endpoint; any 2xx is healthy.
        public var path: String
        /// Time between the starts of two checks of one endpoint; never shorter than `timeout`.
        public var interval: Duration
        /// Time allowed for one check (connect and response).
        public var timeout: Duration
        /// Consecutive successes that bring an unhealthy endpoint back.
        public var healthyThreshold: Int
        /// Consecutive failures that mark an endpoint unhealthy.
        public var unhealthyThreshold: Int

        /// Creates it; each parameter defaults to the value documented on its property.
        public init(
            path: String = "/health",
            interval: Duration = .seconds(5),
            timeout: Duration = .seconds(2),
            healthyThreshold: Int = 2,
            unhealthyThreshold: Int = 3
        ) {
            self.path = path
            self.interval = interval
            self.timeout = timeout
            self.healthyThreshold = healthyThreshold
            self.unhealthyThreshold = unhealthyThreshold
        }
    }

    /// `outlierDetection:` — endpoints that keep failing are taken out of rotation for a while.
    public struct OutlierDetection: Sendable, Equatable {
        /// Consecutive 5xx replies or connection failures that eject an endpoint; 0 turns ejection off.
        public var consecutiveFailures: Int
        /// First ejection time; each further ejection of the same endpoint lasts this times the count.
        public var baseEjectionTime: Duration
        /// Longest ejection, however often an endpoint was ejected.
        public var maxEjectionTime: Duration
        /// At most this percentage of a service's endpoints are ejected at once: with the default 50, a service with
        /// one endpoint is never ejected (it keeps being tried), one with three has at most one out.
        public var maxEjectionPercent: Int

        /// Creates it; each parameter defaults to the value documented on its property.
        public init(
            consecutiveFailures: Int = 5,
            baseEjectionTime: Duration = .seconds(30),
            maxEjectionTime: Duration = .seconds(300),
            maxEjectionPercent: Int = 50
        ) {
            self.consecutiveFailures = consecutiveFailures
            self.baseEjectionTime = baseEjectionTime
            self.maxEjectionTime = maxEjectionTime
            self.maxEjectionPercent = maxEjectionPercent
        }
    }

    /// `limits:` — admission control per service.
    public struct Limits: Sendable, Equatable {
        /// Requests being proxied at once; beyond it (and the pending allowance) 503 at once.
        public var maxConcurrentRequests: Int
        /// Requests waiting for an upstream connection at once; beyond it 503 at once.
        public var maxPendingRequests: Int

        /// Creates it; each parameter defaults to the value documented on its property.
        public init(maxConcurrentRequests: Int = 1024, maxPendingRequests: Int = 1024) {
            self.maxConcurrentRequests = maxConcurrentRequests
            self.maxPendingRequests = maxPendingRequests
        }
    }
}

/// `upstreamTLS:` — how the gateway verifies a service's `https` endpoints.
public struct UpstreamTLS: Sendable, Equatable {
    /// PEM file of the CA certificates to trust; `nil` means the system trust roots.
    public var caFile: String?
    /// Verify the certificate chain and name; `false` accepts any certificate (testing only).
    public var verify: Bool
    /// Name sent by SNI and checked against the certificate; `nil` means the endpoint's host.
    public var serverName: String?

    /// Creates it; each parameter defaults to the value documented on its property.
    public init(caFile: String? = nil, verify: Bool = true, serverName: String? = nil) {
        self.caFile = caFile
        self.verify = verify
        self.serverName = serverName
    }
}
