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
        // Most messages carry none of them: one pass over the names decides, without allocating.
        var found = false
        for (name, _) in headers where isHopByHop(name) {
            found = true
            break
        }
        guard found else { return }
        for value in headers[canonicalForm: "connection"] {
            let name = value.lowercased()
            if !names.contains(name) { headers.remove(name: name) }
        }
        for name in names where headers.contains(name: name) {
            headers.remove(name: name)
        }
    }

    /// Case-insensitive membership in `names`, checked on bytes.
    static func isHopByHop(_ name: String) -> Bool {
        let count = name.utf8.count
        guard count == 2 || count == 7 || count == 9 || count == 10 || count == 16 || count == 17 || count == 19 else {
            return false
        }
        for candidate in names where candidate.utf8.count == count {
            var equal = true
            for (a, b) in zip(name.utf8, candidate.utf8) where a | 0x20 != b {
                equal = false
                break
            }
            if equal { return true }
        }
        return false
    }
}
