import NIOHTTP1

/// Hop-by-hop headers (RFC 9110 §7.6.1, DESIGN §8): they describe one connection and are
/// never forwarded, along with every header a `Connection` header names.
enum HopByHopHeaders {
    /// Removes the hop-by-hop headers and those listed in `Connection`.
    ///
    /// One pass over the names decides what to do. The common cases cost one removal at most:
    /// nothing hop-by-hop at all, or only `Connection: keep-alive`/`close`. Otherwise the kept
    /// headers are copied once.
    static func remove(from headers: inout HTTPHeaders) {
        var hopByHop = 0
        var onlyPlainConnection = true
        var named: [Substring] = []
        for (name, value) in headers where isHopByHop(name) {
            hopByHop += 1
            guard equalsIgnoringCase(name, "connection") else {
                onlyPlainConnection = false
                continue
            }
            if equalsIgnoringCase(value, "keep-alive") || equalsIgnoringCase(value, "close") { continue }
            onlyPlainConnection = false
            for token in value.utf8.split(separator: UInt8(ascii: ",")) {
                let trimmed = Substring(token).trimmingSpaces
                if !trimmed.isEmpty && !equalsIgnoringCase(trimmed, "keep-alive") && !equalsIgnoringCase(trimmed, "close") {
                    named.append(trimmed)
                }
            }
        }
        if hopByHop == 0 { return }
        if onlyPlainConnection {
            headers.remove(name: "connection")
            return
        }
        var kept = HTTPHeaders()
        kept.reserveCapacity(headers.count)
        for (name, value) in headers where !isHopByHop(name) && !named.contains(where: { equalsIgnoringCase(name, $0) }) {
            kept.add(name: name, value: value)
        }
        headers = kept
    }

    /// Whether `name` is hop-by-hop (`connection`, `keep-alive`, `te`, `trailer`, `transfer-encoding`,
    /// `upgrade`, `proxy-authorization`, `proxy-connection`), ignoring ASCII case; decided by length first.
    static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2: return equalsIgnoringCase(name, "te")
        case 7: return equalsIgnoringCase(name, "trailer") || equalsIgnoringCase(name, "upgrade")
        case 10: return equalsIgnoringCase(name, "connection") || equalsIgnoringCase(name, "keep-alive")
        case 16: return equalsIgnoringCase(name, "proxy-connection")
        case 17: return equalsIgnoringCase(name, "transfer-encoding")
        case 19: return equalsIgnoringCase(name, "proxy-authorization")
        default: return false
        }
    }

    /// ASCII case-insensitive comparison with a lowercase literal, on bytes.
    static func equalsIgnoringCase<S: StringProtocol>(_ text: S, _ lowercase: StaticString) -> Bool {
        let count = lowercase.utf8CodeUnitCount
        guard text.utf8.count == count else { return false }
        let literal = lowercase.utf8Start
        var index = 0
        for byte in text.utf8 {
            let lowered = byte >= 65 && byte <= 90 ? byte | 0x20 : byte
            if lowered != literal[index] { return false }
            index += 1
        }
        return true
    }

    /// ASCII case-insensitive comparison of a header name with a token named in `Connection`.
    static func equalsIgnoringCase(_ name: String, _ token: Substring) -> Bool {
        guard name.utf8.count == token.utf8.count else { return false }
        for (a, b) in zip(name.utf8, token.utf8) where a != b {
            let lowerA = a >= 65 && a <= 90 ? a | 0x20 : a
            let lowerB = b >= 65 && b <= 90 ? b | 0x20 : b
            if lowerA != lowerB { return false }
        }
        return true
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs, on bytes.
    fileprivate var trimmingSpaces: Substring {
        var bytes = self.utf8[...]
        while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes = bytes.dropLast() }
        return Substring(bytes)
    }
}
