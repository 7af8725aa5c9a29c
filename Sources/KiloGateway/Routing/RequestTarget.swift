/// A request target split into its raw path and raw query, with dot segments resolved.
///
/// The query is kept byte for byte. The path keeps every byte too, except that `.` and `..`
/// segments (also when percent-encoded as `%2e`) are resolved the way RFC 3986 §5.2.4 does,
/// so that a route is always chosen on the same path the upstream will see.
struct RequestTarget: Equatable {
    /// The normalised path, always starting with `/`.
    var path: Substring
    /// The raw query string without the `?`, or `nil` when the target has none.
    var query: Substring?
    /// `path` is a slice of the target itself (nothing was resolved), so the target's own
    /// indices address it.
    var isVerbatim: Bool

    /// Splits and normalises an origin-form target; `nil` when the target is not origin-form.
    init?(uri: String) {
        guard uri.utf8.first == UInt8(ascii: "/") else { return nil }
        let rawPath: Substring
        if let questionMark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) {
            rawPath = uri[..<questionMark]
            self.query = uri[uri.index(after: questionMark)...]
        } else {
            rawPath = uri[...]
            self.query = nil
        }
        self.isVerbatim = !Self.mayHaveDotSegment(rawPath)
        self.path = isVerbatim ? rawPath : Self.removingDotSegments(rawPath)
    }

    /// The path and query joined again, as sent to an upstream.
    func joined(pathPrefix: String, path: Substring) -> String {
        var result = pathPrefix
        result.reserveCapacity(pathPrefix.utf8.count + path.utf8.count + (query.map { $0.utf8.count + 1 } ?? 0))
        result += path
        if let query {
            result += "?"
            result += query
        }
        return result
    }

    /// Resolves `.` and `..` segments; leaves paths without them untouched (no allocation).
    static func removingDotSegments(_ path: Substring) -> Substring {
        guard mayHaveDotSegment(path) else { return path }
        var hasDotSegment = false
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) where isDot(segment) != nil {
            hasDotSegment = true
            break
        }
        guard hasDotSegment else { return path }

        var output: [Substring] = []
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            switch isDot(segment) {
            case .current:
                if isLast { output.append("") }
            case .parent:
                if !output.isEmpty { output.removeLast() }
                if isLast { output.append("") }
            case nil:
                output.append(segment)
            }
        }
        return Substring("/" + output.joined(separator: "/"))
    }

    /// Fast check: a dot segment starts right after a `/` with `.` or `%2e`; most paths have none.
    private static func mayHaveDotSegment(_ path: Substring) -> Bool {
        func scan<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
            var previous: UInt8 = 0
            for byte in bytes {
                if previous == UInt8(ascii: "/") && (byte == UInt8(ascii: ".") || byte == UInt8(ascii: "%")) {
                    return true
                }
                previous = byte
            }
            return false
        }
        return path.utf8.withContiguousStorageIfAvailable { scan($0) } ?? scan(path.utf8)
    }

    private enum DotSegment { case current, parent }

    /// Whether a segment is `.` or `..`, also when written with `%2e`/`%2E`.
    private static func isDot(_ segment: Substring) -> DotSegment? {
        var dots = 0
        var utf8 = segment.utf8[...]
        while let byte = utf8.first {
            if byte == UInt8(ascii: ".") {
                utf8 = utf8.dropFirst()
            } else if byte == UInt8(ascii: "%"), utf8.count >= 3 {
                let second = utf8[utf8.index(utf8.startIndex, offsetBy: 1)]
                let third = utf8[utf8.index(utf8.startIndex, offsetBy: 2)]
                guard second == UInt8(ascii: "2"), third == UInt8(ascii: "e") || third == UInt8(ascii: "E") else {
                    return nil
                }
                utf8 = utf8.dropFirst(3)
            } else {
                return nil
            }
            dots += 1
            if dots > 2 { return nil }
        }
        switch dots {
        case 1: return .current
        case 2: return .parent
        default: return nil
        }
    }
}

extension RequestTarget {
    /// The path of a raw target without its query, for logs (queries may carry secrets).
    static func pathOnly(_ uri: String) -> Substring {
        if let questionMark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) { return uri[..<questionMark] }
        return uri[...]
    }
}
