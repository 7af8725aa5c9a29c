import NIOHTTP1

/// Hop-by-hop headers (RFC 9110 §7.6.1, DESIGN §8): they describe one connection and are
/// never forwarded, along with every header a `Connection` header names.
enum HopByHopHeaders {
    static let names: [String] = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authorization", "proxy-connection",
    ]

    /// Removes the hop-by-hop headers and those listed in `Connection`.
    static func remove(from headers: inout HTTPHeaders) {
        for value in headers[canonicalForm: "connection"] {
            let name = value.lowercased()
            if !names.contains(name) { headers.remove(name: name) }
        }
        for name in names where headers.contains(name: name) {
            headers.remove(name: name)
        }
    }
}
