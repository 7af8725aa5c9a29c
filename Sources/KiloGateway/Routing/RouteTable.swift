import GatewayConfiguration

/// An immutable routing snapshot built from one configuration.
///
/// Matching is pure: `/api/{service}/{path}`, `/api/{service}`, and the same without `/api`
/// (except `socket.io`); aliases resolve to canonical names; the `/api/{service}` prefix is
/// removed and the rest of the path and the raw query go upstream byte for byte.
struct RouteTable: Sendable {
    /// Services in a fixed order; `ServiceRoute.serviceIndex` points into this array.
    let services: [ServiceConfig]
    private let indexByName: [String: Int]
    /// The service `/socket.io/…` goes to, when `socketIO.service` is configured.
    private let socketIOIndex: Int?

    init(config: GatewayConfig) {
        let ordered = config.services.values.sorted { $0.name < $1.name }
        self.services = ordered
        var index: [String: Int] = [:]
        for (position, service) in ordered.enumerated() {
            index[service.name] = position
        }
        for (alias, target) in config.aliases {
            if let position = index[target] { index[alias] = position }
        }
        self.indexByName = index
        self.socketIOIndex = config.socketIO.flatMap { index[$0.service] }
    }

    /// Resolves a raw request target.
    func route(uri: String) -> Route {
        guard let target = RequestTarget(uri: uri) else { return .notFound }
        var rest = target.path.dropFirst()  // drop the leading "/"
        var hasAPIPrefix = false
        if rest == "api" || rest.hasPrefix("api/") {
            hasAPIPrefix = true
            rest = rest.dropFirst(3)
            if rest.first == "/" { rest = rest.dropFirst() }
        }
        let name: Substring
        let remainder: Substring
        if let slash = rest.firstIndex(of: "/") {
            name = rest[..<slash]
            remainder = rest[slash...]
        } else {
            name = rest
            remainder = ""
        }
        if name.isEmpty { return .notFound }
        if let builtin = Self.builtin(name: name), remainder.isEmpty || remainder == "/" {
            return .builtin(builtin)
        }
        if name == "admin" && (remainder == "/status" || remainder == "/status/") {
            return .builtin(.adminStatus)
        }
        if name == "socket.io" {
            // Socket.IO keeps its whole path: its server expects `/socket.io/`.
            guard let position = socketIOIndex else { return .unknownService(String(name)) }
            let service = services[position]
            let kept = "/socket.io" + remainder
            return .service(
                ServiceRoute(
                    service: service.name, serviceIndex: position,
                    upstreamTarget: target.joined(pathPrefix: service.url.basePath, path: kept[...]),
                    pathAndQuery: target.joined(pathPrefix: "", path: kept[...]),
                    publicPrefix: hasAPIPrefix ? "/api" : ""))
        }
        guard let position = indexByName[String(name)] else { return .unknownService(String(name)) }
        let service = services[position]
        let forwardedPath: Substring = remainder.isEmpty ? "/" : remainder
        let prefix = hasAPIPrefix ? "/api/" + name : "/" + name
        return .service(
            ServiceRoute(
                service: service.name,
                serviceIndex: position,
                upstreamTarget: target.joined(pathPrefix: service.url.basePath, path: forwardedPath),
                pathAndQuery: target.joined(pathPrefix: "", path: forwardedPath),
                publicPrefix: String(prefix)
            )
        )
    }

    private static func builtin(name: Substring) -> BuiltinEndpoint? {
        switch name {
        case "health", "status": return .health
        case "healthz": return .liveness
        case "readyz": return .readiness
        case "metrics": return .metrics
        default: return nil
        }
    }
}
