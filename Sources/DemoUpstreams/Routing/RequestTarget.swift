/// A request target split into path and query, parsed just well enough to route test traffic.
struct RequestTarget: Equatable {
    /// The target exactly as received.
    let raw: String
    /// The path, without scheme and authority when the target was in absolute form.
    let path: String
    /// The raw query string after the first `?`, if any.
    let query: String?

    init(_ raw: String) {
        self.raw = raw
        var rest = Substring(raw)
        if let hash = rest.firstIndex(of: "#") {
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: "?") {
            self.query = String(rest[rest.index(after: question)...])
            rest = rest[..<question]
        } else {
            self.query = nil
        }
        // Absolute form (`http://host/path`) shows up when a client talks to us as if we were a proxy.
        if let scheme = rest.firstRange(of: "://") {
            let afterAuthority = rest[scheme.upperBound...]
            rest = afterAuthority.firstIndex(of: "/").map { afterAuthority[$0...] } ?? "/"
        }
        self.path = String(rest)
    }

    /// The percent-decoded value of the first query parameter called `name`.
    func parameter(_ name: String) -> String? {
        guard let query = self.query else { return nil }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if RequestTarget.percentDecoded(parts[0]) == name {
                return parts.count > 1 ? RequestTarget.percentDecoded(parts[1]) : ""
            }
        }
        return nil
    }

    /// Decodes `%XX` escapes and `+` as space; malformed escapes are kept literally.
    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                if iterator.count >= 2, let high = hexValue(iterator[iterator.startIndex]),
                    let low = hexValue(iterator[iterator.startIndex + 1])
                {
                    bytes.append(high << 4 | low)
                    iterator = iterator.dropFirst(2)
                } else {
                    bytes.append(byte)
                }
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
