import GatewayConfiguration
import Testing

@testable import KiloGateway

@Suite struct RouteTableTests {
    static let table = RouteTable(
        config: GatewayConfig(
            services: [
                "meds": ServiceConfig(name: "meds", url: UpstreamURL(host: "kilo-meds", port: 9000)),
                "financial": ServiceConfig(name: "financial", url: UpstreamURL(host: "kilo-financial", port: 9005)),
                "chat": ServiceConfig(name: "chat", url: UpstreamURL(host: "kilo-chat", port: 80, basePath: "/v1/chat")),
                "sockets": ServiceConfig(name: "sockets", url: UpstreamURL(host: "kilo-sockets", port: 9100)),
            ],
            aliases: ["medications": "meds", "money": "financial", "dangling": "missing"]
        )
    )

    /// `(service, upstreamTarget, publicPrefix)` of a service route, or nil for anything else.
    private func serviceRoute(_ uri: String) -> ServiceRoute? {
        if case .service(let route) = Self.table.route(uri: uri) { return route }
        return nil
    }

    @Test(arguments: [
        // uri, service, upstream target, public prefix
        ("/api/meds/list", "meds", "/list", "/api/meds"),
        ("/api/meds", "meds", "/", "/api/meds"),
        ("/api/meds/", "meds", "/", "/api/meds"),
        ("/api/meds/a/b/", "meds", "/a/b/", "/api/meds"),
        ("/meds/list", "meds", "/list", "/meds"),
        ("/meds", "meds", "/", "/meds"),
        ("/api/medications/x", "meds", "/x", "/api/medications"),
        ("/money/x", "financial", "/x", "/money"),
        ("/api/chat/send", "chat", "/v1/chat/send", "/api/chat"),
        ("/api/chat", "chat", "/v1/chat/", "/api/chat"),
        ("/chat?stream=1", "chat", "/v1/chat/?stream=1", "/chat"),
    ])
    func routesToServices(_ uri: String, _ service: String, _ upstream: String, _ prefix: String) throws {
        let route = try #require(serviceRoute(uri))
        #expect(route.service == service)
        #expect(route.upstreamTarget == upstream)
        #expect(route.publicPrefix == prefix)
        #expect(Self.table.services[route.serviceIndex].name == service)
    }

    /// `/socket.io/…` (with or without `/api`) goes to `socketIO.service` with its path kept whole.
    @Test(arguments: [
        ("/socket.io/?EIO=4&transport=polling", "/socket.io/?EIO=4&transport=polling"),
        ("/api/socket.io/?EIO=4", "/socket.io/?EIO=4"),
        ("/socket.io", "/socket.io"),
    ])
    func routesSocketIOToItsService(_ uri: String, _ upstream: String) throws {
        var config = GatewayConfig(services: ["sockets": ServiceConfig(name: "sockets", url: UpstreamURL(host: "kilo-sockets", port: 9100))])
        config.socketIO = SocketIOSettings(service: "sockets")
        guard case .service(let route) = RouteTable(config: config).route(uri: uri) else {
            Issue.record("\(uri) did not route to a service")
            return
        }
        #expect(route.service == "sockets")
        #expect(route.upstreamTarget == upstream)
    }

    @Test(arguments: [
        ("/health", BuiltinEndpoint.health),
        ("/status", .health),
        ("/healthz", .liveness),
        ("/readyz", .readiness),
        ("/api/health", .health),
        ("/api/status", .health),
        ("/api/healthz", .liveness),
        ("/api/readyz", .readiness),
        ("/health/", .health),
        ("/readyz?verbose=1", .readiness),
        ("/api/x/../healthz", .liveness),
    ])
    func routesBuiltins(_ uri: String, _ endpoint: BuiltinEndpoint) {
        #expect(Self.table.route(uri: uri) == .builtin(endpoint))
    }

    @Test(arguments: [
        ("/api/unknown/x", "unknown"),
        ("/unknown", "unknown"),
        ("/socket.io/?EIO=4", "socket.io"),
        ("/socket.io", "socket.io"),
        ("/health/x", "health"),
        ("/api/dangling/x", "dangling"),
        ("/API/meds", "API"),
        ("/Meds/x", "Meds"),
        ("/api/%6deds/x", "%6deds"),
    ])
    func reportsUnknownServices(_ uri: String, _ name: String) {
        #expect(Self.table.route(uri: uri) == .unknownService(name))
    }

    @Test(arguments: ["", "*", "/", "/api", "/api/", "//meds", "/api//meds", "http://kilo-meds/x", "/?x=1"])
    func rejectsTargetsWithoutService(_ uri: String) {
        #expect(Self.table.route(uri: uri) == .notFound)
    }

    @Test func keepsTheRawQueryByteForByte() throws {
        let query = "a=1&a=2&%C3%A9=%2F%3F&b&=x&c=%2e%2e/../&&"
        let route = try #require(serviceRoute("/api/meds/search?" + query))
        #expect(route.upstreamTarget == "/search?" + query)
        let empty = try #require(serviceRoute("/api/meds/search?"))
        #expect(empty.upstreamTarget == "/search?")
    }

    @Test func keepsEncodedPathBytes() throws {
        let route = try #require(serviceRoute("/api/meds/a%20b/%2Fc/%E2%9C%93"))
        #expect(route.upstreamTarget == "/a%20b/%2Fc/%E2%9C%93")
    }

    @Test func routesOnTheNormalisedPath() throws {
        let route = try #require(serviceRoute("/api/meds/../financial/x"))
        #expect(route.service == "financial")
        #expect(route.upstreamTarget == "/x")
        #expect(route.publicPrefix == "/api/financial")

        let encoded = try #require(serviceRoute("/api/meds/%2e%2e/financial/x?q=1"))
        #expect(encoded.service == "financial")
        #expect(encoded.upstreamTarget == "/x?q=1")

        let within = try #require(serviceRoute("/api/meds/a/b/../../c/./d"))
        #expect(within.service == "meds")
        #expect(within.upstreamTarget == "/c/d")
    }

    @Test func traversalNeverEscapesIntoAServiceSibling() {
        // Normalised to /etc/passwd: no service is named "etc".
        #expect(Self.table.route(uri: "/api/meds/%2e%2e/%2e%2e/etc/passwd") == .unknownService("etc"))
        #expect(Self.table.route(uri: "/api/meds/../../../../etc/passwd") == .unknownService("etc"))
        #expect(Self.table.route(uri: "/meds/%2E%2E") == .notFound)
    }

    @Test func traversalCannotClimbAboveTheBasePath() throws {
        let route = try #require(serviceRoute("/api/chat/../chat/../../chat/%2e%2e/chat/x"))
        #expect(route.service == "chat")
        #expect(route.upstreamTarget == "/v1/chat/x")
        let deep = try #require(serviceRoute("/api/chat/a/%2e%2e/%2e%2e/chat/y"))
        #expect(deep.upstreamTarget == "/v1/chat/y")
    }

    @Test func encodedSlashTraversalStaysInTheServiceWithRawBytes() throws {
        let route = try #require(serviceRoute("/api/meds/..%2ffinancial"))
        #expect(route.service == "meds")
        #expect(route.upstreamTarget == "/..%2ffinancial")
        let chat = try #require(serviceRoute("/api/chat/..%2F..%2Fadmin"))
        #expect(chat.upstreamTarget == "/v1/chat/..%2F..%2Fadmin")
    }

    /// Whatever the input, a routed upstream target starts with the base path and holds no dot segment.
    @Test func upstreamTargetsNeverContainDotSegments() {
        var random = SeededRandom(seed: 42)
        let pieces = ["api", "meds", "chat", "financial", ".", "..", "%2e", "%2E%2e", ".%2e", "x", "", "health"]
        for _ in 0..<3_000 {
            let count = Int.random(in: 1...7, using: &random)
            let uri = "/" + (0..<count).map { _ in pieces.randomElement(using: &random)! }.joined(separator: "/")
            guard case .service(let route) = Self.table.route(uri: uri) else { continue }
            let base = Self.table.services[route.serviceIndex].url.basePath
            #expect(route.upstreamTarget.hasPrefix(base + "/"), "\(uri)")
            let segments = route.upstreamTarget.split(separator: "/", omittingEmptySubsequences: false)
            #expect(!segments.contains { [".", "..", "%2e", "%2E%2e", ".%2e"].contains($0) }, "\(uri)")
        }
    }

    @Test func servicesAreIndexedInNameOrder() {
        #expect(Self.table.services.map(\.name) == ["chat", "financial", "meds", "sockets"])
    }

    @Test func emptyConfigRoutesOnlyBuiltins() {
        let empty = RouteTable(config: GatewayConfig())
        #expect(empty.route(uri: "/health") == .builtin(.health))
        #expect(empty.route(uri: "/api/meds/x") == .unknownService("meds"))
    }
}
