import GatewayConfiguration

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// An immutable routing snapshot built from one configuration. A class: the loop reads it on
/// every request, and copying a struct of it would retain each of its arrays.
///
/// Matching is pure: `/api/{service}/{path}`, `/api/{service}`, and the same without `/api`
/// (except `socket.io`); aliases resolve to canonical names; the `/api/{service}` prefix is
/// removed and the rest of the path and the raw query go upstream byte for byte.
final class RouteTable: Sendable {
    /// Services in a fixed order; `ServiceRoute.serviceIndex` points into this array.
    let services: [ServiceConfig]
    private let indexByName: [String: Int]
    /// The service `/socket.io/…` goes to, when `socketIO.service` is configured.
    private let socketIOIndex: Int?
    /// Every service and alias name with its bytes, for the lookup on each request (a linear
    /// scan over a few names costs less than hashing one String).
    private let names: [(bytes: [UInt8], name: String, position: Int)]
    /// Each service's name and the base path of its URL, by position (copying a `ServiceConfig`
    /// on each request to read two fields costs a retain for every field it holds).
    private let targets: [(name: String, basePath: String)]

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
        self.names = index.map { (bytes: Array($0.key.utf8), name: $0.key, position: $0.value) }.sorted { $0.name < $1.name }
        self.targets = ordered.map { (name: $0.name, basePath: $0.url.basePath) }
    }

    /// Resolves a raw request target. Works on the target's bytes: a Unicode-aware comparison
    /// of each segment would cost more than the rest of the routing together.
    func route(uri: String) -> Route {
        if let decided = uri.utf8.withContiguousStorageIfAvailable({ bytes in route(bytes) }), let route = decided {
            return route
        }
        return routeInGeneral(uri: uri)
    }

    /// The common case on the target's bytes: an origin-form target without dot segments, to a
    /// service, alias or built-in endpoint. `nil` for anything else (dot segments to resolve,
    /// Socket.IO), which `routeInGeneral` decides.
    private func route(_ bytes: UnsafeBufferPointer<UInt8>) -> Route? {
        let count = bytes.count
        guard count > 0, bytes[0] == UInt8(ascii: "/") else { return nil }
        var pathEnd = 0
        while pathEnd < count && bytes[pathEnd] != UInt8(ascii: "?") { pathEnd += 1 }
        var index = 0
        while index + 1 < pathEnd {
            if bytes[index] == UInt8(ascii: "/") && (bytes[index + 1] == UInt8(ascii: ".") || bytes[index + 1] == UInt8(ascii: "%")) {
                return nil  // possibly a dot segment
            }
            index += 1
        }
        var start = 1
        var viaAPI = false
        if Self.equals(bytes, start..<min(start + 3, pathEnd), "api") && (start + 3 == pathEnd || bytes[start + 3] == UInt8(ascii: "/")) {
            viaAPI = true
            start = min(start + 4, pathEnd)
        }
        var end = start
        while end < pathEnd && bytes[end] != UInt8(ascii: "/") { end += 1 }
        guard end > start else { return .notFound }
        let name = start..<end
        if end == pathEnd || end + 1 == pathEnd, let builtin = Self.builtin(bytes, name) {
            return .builtin(builtin)
        }
        if Self.equals(bytes, name, "admin")
            && (Self.equals(bytes, end..<pathEnd, "/status") || Self.equals(bytes, end..<pathEnd, "/status/"))
        {
            return .builtin(.adminStatus)
        }
        if Self.equals(bytes, name, "socket.io") { return nil }
        guard let entry = names.first(where: { $0.bytes.count == name.count && Self.equals(bytes, name, $0.bytes) }) else {
            return .unknownService(String(decoding: UnsafeBufferPointer(rebasing: bytes[name]), as: UTF8.self))
        }
        // The rest of the target as it is, or `/` and the query when nothing follows the name.
        let pathAndQuery =
            end == pathEnd
            ? "/" + String(decoding: UnsafeBufferPointer(rebasing: bytes[pathEnd..<count]), as: UTF8.self)
            : String(decoding: UnsafeBufferPointer(rebasing: bytes[end..<count]), as: UTF8.self)
        let target = targets[entry.position]
        return .service(
            ServiceRoute(
                service: target.name, serviceIndex: entry.position, basePath: target.basePath, pathAndQuery: pathAndQuery,
                viaAPI: viaAPI, publicName: entry.name))
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        range.count == literal.utf8CodeUnitCount && memcmp(bytes.baseAddress! + range.lowerBound, literal.utf8Start, range.count) == 0
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ other: [UInt8]) -> Bool {
        other.withUnsafeBufferPointer { memcmp(bytes.baseAddress! + range.lowerBound, $0.baseAddress!, range.count) == 0 }
    }

    private static func builtin(_ bytes: UnsafeBufferPointer<UInt8>, _ name: Range<Int>) -> BuiltinEndpoint? {
        switch name.count {
        case 6 where equals(bytes, name, "health"), 6 where equals(bytes, name, "status"): return .health
        case 7 where equals(bytes, name, "healthz"): return .liveness
        case 6 where equals(bytes, name, "readyz"): return .readiness
        case 7 where equals(bytes, name, "metrics"): return .metrics
        default: return nil
        }
    }

    /// Any target: dot segments resolved first (see ``RequestTarget``).
    private func routeInGeneral(uri: String) -> Route {
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
