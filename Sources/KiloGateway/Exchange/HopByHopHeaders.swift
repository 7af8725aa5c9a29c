import NIOHTTP1

/// Hop-by-hop headers (RFC 9110 §7.6.1, DESIGN §8): they describe one connection and are
/// never forwarded, along with every header a `Connection` header names.
enum HopByHopHeaders {
    /// Removes the hop-by-hop headers and those listed in `Connection`.
    ///
    /// A head without hop-by-hop headers is left untouched. The head rewrites in `HeaderRewriter`
    /// do the same in the pass that builds their head.
    static func remove(from headers: inout HTTPHeaders) {
        guard headers.contains(where: { HeaderName($0.name).isHopByHop }) else { return }
        let named = namedByConnection(headers)
        var kept: [(String, String)] = []
        kept.reserveCapacity(headers.count)
        for (name, value) in headers where !HeaderName(name).isHopByHop && !isNamed(name, by: named) {
            kept.append((name, value))
        }
        headers = HTTPHeaders(kept)
    }

    /// The header names every `Connection` header lists, besides `keep-alive` and `close`.
    static func namedByConnection(_ headers: HTTPHeaders) -> [Substring] {
        var named: [Substring] = []
        for (name, value) in headers where HeaderName(name) == .connection {
            if equalsIgnoringCase(value, "keep-alive") || equalsIgnoringCase(value, "close") { continue }
            for token in value.utf8.split(separator: UInt8(ascii: ",")) {
                let trimmed = Substring(token).trimmingSpaces
                if !trimmed.isEmpty && !equalsIgnoringCase(trimmed, "keep-alive") && !equalsIgnoringCase(trimmed, "close") {
                    named.append(trimmed)
                }
            }
        }
        return named
    }

    /// Whether a `Connection` header listed `name`.
    static func isNamed(_ name: String, by named: [Substring]) -> Bool {
        !named.isEmpty && named.contains { equalsToken(name, $0) }
    }

    /// ASCII case-insensitive comparison with a lowercase literal, on bytes.
    static func equalsIgnoringCase(_ text: String, _ lowercase: StaticString) -> Bool {
        guard text.utf8.count == lowercase.utf8CodeUnitCount else { return false }
        if let equal = text.utf8.withContiguousStorageIfAvailable({ equalsIgnoringCase($0, lowercase) }) {
            return equal
        }
        return equalsIgnoringCase(text[...], lowercase)
    }

    /// ASCII case-insensitive comparison with a lowercase literal, on bytes.
    static func equalsIgnoringCase<S: Collection<UInt8>>(_ bytes: S, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        var literal = lowercase.utf8Start
        for byte in bytes {
            let lowered = byte >= 65 && byte <= 90 ? byte | 0x20 : byte
            if lowered != literal.pointee { return false }
            literal += 1
        }
        return true
    }

    /// ASCII case-insensitive comparison with a lowercase literal, on bytes.
    static func equalsIgnoringCase(_ text: Substring, _ lowercase: StaticString) -> Bool {
        equalsIgnoringCase(text.utf8, lowercase)
    }

    /// ASCII case-insensitive comparison of a header name with a token named in `Connection`.
    static func equalsToken(_ name: String, _ token: Substring) -> Bool {
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
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace), on bytes.
    var trimmingSpaces: Substring {
        var bytes = self.utf8[...]
        while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes = bytes.dropLast() }
        return Substring(bytes)
    }
}
