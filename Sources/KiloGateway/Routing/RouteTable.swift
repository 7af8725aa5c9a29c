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

    /// Resolves a raw request target. Works on the target's bytes: a Unicode-aware comparison
    /// of each segment would cost more than the rest of the routing together.
    func route(uri: String) -> Route {
        guard let target = RequestTarget(uri: uri) else { return .notFound }
        let path = target.path
        let bytes = path.utf8
        var start = bytes.index(after: bytes.startIndex)  // after the leading "/"
        var hasAPIPrefix = false
        if Self.isSegment(bytes[start...], "api") {
            hasAPIPrefix = true
            start = bytes.index(start, offsetBy: 3)
            if start < bytes.endIndex { start = bytes.index(after: start) }
        }
        let rest = bytes[start...]
        let end = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let name = path[start..<end]
        let remainder = path[end...]
        if name.isEmpty { return .notFound }
        let remainderIsRoot = remainder.isEmpty || Self.equals(remainder.utf8, "/")
        if remainderIsRoot, let builtin = Self.builtin(name: name.utf8) {
            return .builtin(builtin)
        }
        if Self.equals(name.utf8, "admin") && (Self.equals(remainder.utf8, "/status") || Self.equals(remainder.utf8, "/status/")) {
            return .builtin(.adminStatus)
        }
        if Self.equals(name.utf8, "socket.io") {
            // Socket.IO keeps its whole path: its server expects `/socket.io/`.
            guard let position = socketIOIndex else { return .unknownService(String(name)) }
            let service = services[position]
            let kept = "/socket.io" + remainder
            return .service(
                ServiceRoute(
                    service: service.name, serviceIndex: position, basePath: service.url.basePath,
                    pathAndQuery: target.joined(pathPrefix: "", path: kept[...]),
                    viaAPI: hasAPIPrefix, publicName: ""))
        }
        let publicName = String(name)
        guard let position = indexByName[publicName] else { return .unknownService(publicName) }
        let pathAndQuery: String
        if remainder.isEmpty {
            pathAndQuery = target.joined(pathPrefix: "", path: "/")
        } else if target.isVerbatim {
            // The path is the one in the target (no dot segments resolved): the rest of the target as it is.
            pathAndQuery = String(uri[remainder.startIndex...])
        } else {
            pathAndQuery = target.joined(pathPrefix: "", path: remainder)
        }
        return .service(
            ServiceRoute(
                service: services[position].name, serviceIndex: position, basePath: services[position].url.basePath,
                pathAndQuery: pathAndQuery, viaAPI: hasAPIPrefix, publicName: publicName))
    }

    /// Whether the bytes are `segment`, alone or followed by `/`.
    private static func isSegment(_ bytes: Substring.UTF8View, _ segment: StaticString) -> Bool {
        let count = segment.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        let end = bytes.index(bytes.startIndex, offsetBy: count)
        return equals(bytes[..<end], segment) && (end == bytes.endIndex || bytes[end] == UInt8(ascii: "/"))
    }

    /// Byte-wise equality with a literal.
    private static func equals(_ bytes: Substring.UTF8View, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        var pointer = literal.utf8Start
        for byte in bytes {
            if byte != pointer.pointee { return false }
            pointer += 1
        }
        return true
    }

    private static func builtin(name: Substring.UTF8View) -> BuiltinEndpoint? {
        switch name.count {
        case 6 where equals(name, "health"), 6 where equals(name, "status"): return .health
        case 7 where equals(name, "healthz"): return .liveness
        case 6 where equals(name, "readyz"): return .readiness
        case 7 where equals(name, "metrics"): return .metrics
        default: return nil
        }
    }
}
