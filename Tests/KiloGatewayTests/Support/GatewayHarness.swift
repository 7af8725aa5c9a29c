import DemoUpstreams
import GatewayConfiguration
import KiloGateway
import NIOCore
import NIOPosix

/// Event loop groups shared by the end-to-end tests: the gateway, the upstreams and the
/// clients each get their own threads, as they would in separate processes.
enum TestGroups {
    static let gateway = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    static let upstream = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let client = MultiThreadedEventLoopGroup(numberOfThreads: 1)
}

/// A running gateway in front of real loopback upstreams.
struct GatewayHarness: Sendable {
    let server: GatewayServer
    let port: Int
    let upstreams: [String: DemoUpstream]
    let logs: LogCapture

    func upstream(_ name: String) -> DemoUpstream { upstreams[name]! }

    /// A GET through the gateway on a new connection.
    func get(_ uri: String, headers: [(String, String)] = []) async throws -> TestResponse {
        try await TestClient.get(uri, port: port, group: TestGroups.client, headers: headers)
    }

    func send(_ request: TestRequest, collectBody: Bool = true, abortAfterBytes: Int? = nil) async throws -> TestResponse {
        try await TestClient.send(request, port: port, group: TestGroups.client, collectBody: collectBody, abortAfterBytes: abortAfterBytes)
    }

    func raw(_ bytes: String, halfClose: Bool = false, timeout: Duration = .seconds(3)) async throws -> RawClient.Result {
        try await RawClient.exchange(bytes, port: port, group: TestGroups.client, halfClose: halfClose, timeout: timeout)
    }
}

/// Starts upstreams named in `upstreams`, a gateway routing `/api/{name}` to each, runs `body`,
/// and stops everything even when `body` throws.
func withGateway<T>(
    upstreams: [String: Behaviour] = ["echo": Behaviour()],
    clusters: [String: [Behaviour]] = [:],
    extraServices: [String: UpstreamURL] = [:],
    aliases: [String: String] = [:],
    configure: (inout ServiceSettings) -> Void = { _ in },
    edge: (inout GatewayConfig) -> Void = { _ in },
    drainTimeout: Duration = .seconds(5),
    _ body: (GatewayHarness) async throws -> T
) async throws -> T {
    var started: [String: DemoUpstream] = [:]
    for (name, behaviour) in upstreams {
        started[name] = try await DemoUpstream.start(behaviour: behaviour, group: TestGroups.upstream)
    }
    var settings = ServiceSettings()
    settings.retries.backoff = .milliseconds(20)
    configure(&settings)
    var services: [String: ServiceConfig] = [:]
    for (name, upstream) in started {
        services[name] = ServiceConfig(name: name, url: UpstreamURL(host: "127.0.0.1", port: upstream.port), settings: settings)
    }
    for (name, url) in extraServices {
        services[name] = ServiceConfig(name: name, url: url, settings: settings)
    }
    // A cluster is one service with several endpoints; its upstreams are named "name/0", "name/1", …
    for (name, behaviours) in clusters {
        var urls: [UpstreamURL] = []
        for (index, behaviour) in behaviours.enumerated() {
            let upstream = try await DemoUpstream.start(behaviour: behaviour, group: TestGroups.upstream)
            started["\(name)/\(index)"] = upstream
            urls.append(UpstreamURL(host: "127.0.0.1", port: upstream.port))
        }
        services[name] = ServiceConfig(name: name, endpoints: urls, settings: settings)
    }
    var config = GatewayConfig(
        listen: ListenAddress(host: "127.0.0.1", port: 0), drainTimeout: drainTimeout, defaults: settings,
        services: services, aliases: aliases)
    edge(&config)
    let logs = LogCapture()
    let server = GatewayServer(
        config: config, logger: logs.logger, accessLog: AccessLog { logs.recordAccess($0) },
        eventLoopGroup: TestGroups.gateway)
    try await server.start()
    let harness = GatewayHarness(server: server, port: server.localAddress!.port!, upstreams: started, logs: logs)
    return try await runThenStop(server: server, upstreams: Array(started.values)) { try await body(harness) }
}

/// Runs `body`, then shuts the gateway down and stops the upstreams, also when `body` throws.
func runThenStop<Result>(
    server: GatewayServer, upstreams: [DemoUpstream], _ body: () async throws -> Result
) async throws -> Result {
    try await withStopping(
        server,
        stop: { server in
            await server.shutdown(drainTimeout: .seconds(1))
            for upstream in upstreams { try? await upstream.stop() }
        },
        { _ in try await body() })
}
