/// The header names the gateway treats specially, recognised on bytes (length first, then an
/// ASCII case-insensitive comparison) so that rewriting a head costs one pass over its names.
enum HeaderName: Equatable {
    /// `connection`: hop-by-hop, and may name further hop-by-hop headers.
    case connection
    /// `transfer-encoding`: hop-by-hop; the framing is re-derived.
    case transferEncoding
    /// `keep-alive`, `te`, `trailer`, `upgrade`, `proxy-authorization`, `proxy-connection`.
    case otherHopByHop
    case host
    case contentLength
    case expect
    case location
    case xForwardedFor
    case xForwardedProto
    case xForwardedHost
    case xRequestID
    /// Any other name: end to end, passed on as it is.
    case other

    init(_ name: String) {
        // One look at the bytes for every comparison (asking a String for them costs more than comparing).
        if let kind = name.utf8.withContiguousStorageIfAvailable({ Self.classify($0) }) {
            self = kind
        } else {
            self = Array(name.utf8).withUnsafeBufferPointer { Self.classify($0) }
        }
    }

    var isHopByHop: Bool {
        switch self {
        case .connection, .transferEncoding, .otherHopByHop: return true
        default: return false
        }
    }

    static func classify(_ name: UnsafeBufferPointer<UInt8>) -> HeaderName {
        switch name.count {
        case 2: return eq(name, "te") ? .otherHopByHop : .other
        case 4: return eq(name, "host") ? .host : .other
        case 6: return eq(name, "expect") ? .expect : .other
        case 7: return eq(name, "trailer") || eq(name, "upgrade") ? .otherHopByHop : .other
        case 8: return eq(name, "location") ? .location : .other
        case 10:
            if eq(name, "connection") { return .connection }
            return eq(name, "keep-alive") ? .otherHopByHop : .other
        case 12: return eq(name, "x-request-id") ? .xRequestID : .other
        case 14: return eq(name, "content-length") ? .contentLength : .other
        case 15: return eq(name, "x-forwarded-for") ? .xForwardedFor : .other
        case 16:
            if eq(name, "x-forwarded-host") { return .xForwardedHost }
            return eq(name, "proxy-connection") ? .otherHopByHop : .other
        case 17:
            if eq(name, "transfer-encoding") { return .transferEncoding }
            return eq(name, "x-forwarded-proto") ? .xForwardedProto : .other
        case 19: return eq(name, "proxy-authorization") ? .otherHopByHop : .other
        default: return .other
        }
    }

    private static func eq(_ name: UnsafeBufferPointer<UInt8>, _ lowercase: StaticString) -> Bool {
        HopByHopHeaders.equalsIgnoringCase(name, lowercase)
    }
}
