import NIOHTTP1

/// Hop-by-hop headers (RFC 9110 §7.6.1, DESIGN §8): they describe one connection and are
/// never forwarded, along with every header a `Connection` header names.
enum HopByHopHeaders {
    static let names: [String] = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authorization", "proxy-connection",
    ]

    /// Removes the hop-by-hop headers and those listed in `Connection`.
    ///
    /// One pass finds out whether anything must go (most messages carry only `Connection:
    /// keep-alive` or nothing); if so, the kept headers are copied once instead of removing
    /// name by name.
    static func remove(from headers: inout HTTPHeaders) {
        var found = false
        var named: [Substring] = []
        for (name, value) in headers where isHopByHop(name) {
            found = true
            guard equalsIgnoringCase(name, "connection") else { continue }
            for token in value.split(separator: ",") {
                let trimmed = token.trimmingWhitespace
                if !trimmed.isEmpty && !equalsIgnoringCase(trimmed, "keep-alive") && !equalsIgnoringCase(trimmed, "close") {
                    named.append(trimmed)
                }
            }
        }
        guard found else { return }
        var kept = HTTPHeaders()
        kept.reserveCapacity(headers.count)
        for (name, value) in headers where !isHopByHop(name) && !named.contains(where: { equalsIgnoringCase(name, $0) }) {
            kept.add(name: name, value: value)
        }
        headers = kept
    }

    /// ASCII case-insensitive equality, on bytes (header names are ASCII).
    static func equalsIgnoringCase<A: StringProtocol, B: StringProtocol>(_ a: A, _ b: B) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        for (x, y) in zip(a.utf8, b.utf8) where x != y {
            let lowerX = x >= 65 && x <= 90 ? x | 0x20 : x
            let lowerY = y >= 65 && y <= 90 ? y | 0x20 : y
            if lowerX != lowerY { return false }
        }
        return true
    }

    /// Case-insensitive membership in `names`, checked on bytes.
    static func isHopByHop(_ name: String) -> Bool {
        let count = name.utf8.count
        guard count == 2 || count == 7 || count == 9 || count == 10 || count == 16 || count == 17 || count == 19 else {
            return false
        }
        for candidate in names where candidate.utf8.count == count && equalsIgnoringCase(name, candidate) {
            return true
        }
        return false
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingWhitespace: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
