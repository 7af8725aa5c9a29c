import GatewayConfiguration
import NIOHTTP1

/// Checks on a request head that the parsers (the gateway's HTTP/1 one, NIO's HTTP/2 codec) leave to the
/// application (DESIGN §8). The HTTP/1 parser says when a head needs none of them (`RequestHeadFacts`).
/// Pure: returns the problem, or `nil` with the headers possibly cleaned.
enum RequestHygiene {
    /// Validates `head` in place; returns a reason for a 400 when it must be refused.
    static func check(_ head: inout HTTPRequestHead, underscores: UnderscorePolicy) -> String? {
        var hosts = 0
        var underscored: [String] = []
        for (name, value) in head.headers {
            if name.utf8.count == 4 && HeaderName(name) == .host { hosts += 1 }
            if name.utf8.contains(UInt8(ascii: "_")) { underscored.append(name) }
            if hasControlCharacter(value) { return "control character in header \(name)" }
        }
        if hosts > 1 { return "more than one Host header" }
        if head.version == .http1_1 && hosts == 0 { return "missing Host header" }
        if !underscored.isEmpty {
            switch underscores {
            case .allow:
                break
            case .drop:
                for name in underscored { head.headers.remove(name: name) }
            case .reject:
                return "header name with an underscore: \(underscored[0])"
            }
        }
        return nil
    }

    /// The size of an HTTP/2 request's header list as HTTP/2 counts it (RFC 9113 §6.5.2): each
    /// field's name and value plus 32, the pseudo-header fields (`:method`, `:scheme`, `:path`;
    /// `:authority` arrives as `Host`) included. `limits.http2MaxHeaderListSize` bounds it.
    static func http2HeaderListSize(_ head: HTTPRequestHead, scheme: String) -> Int {
        var size = (7 + head.method.rawValue.utf8.count + 32) + (7 + scheme.utf8.count + 32) + (5 + head.uri.utf8.count + 32)
        for (name, value) in head.headers {
            size += name.utf8.count + value.utf8.count + 32
        }
        return size
    }

    /// A control character other than a tab (the HTTP/1 parser refuses them; heads from HTTP/2 may carry them).
    private static func hasControlCharacter(_ value: String) -> Bool {
        func scan<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
            bytes.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
        }
        return value.utf8.withContiguousStorageIfAvailable { scan($0) } ?? scan(value.utf8)
    }
}
