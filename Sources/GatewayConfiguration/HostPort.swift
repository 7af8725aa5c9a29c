/// `host[:port]` splitting shared by `listen` and service URLs, with IPv6 literals in brackets.
enum HostPort {
    /// Why an authority could not be split.
    enum Failure: Error {
        case malformedBrackets
        case unbracketedIPv6
        case invalidHost(Substring)
    }

    /// Splits `host`, `host:port`, `[::1]` or `[::1]:port`; the host comes back without brackets.
    static func split(_ text: Substring) -> Result<(host: String, port: Substring?), Failure> {
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { return .failure(.malformedBrackets) }
            let host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || rest.first == ":" else { return .failure(.malformedBrackets) }
            guard isIPv6Literal(host) else { return .failure(.invalidHost(host)) }
            return .success((String(host), rest.isEmpty ? nil : rest.dropFirst()))
        }
        let colons = text.count(where: { $0 == ":" })
        // Two or more colons can only be a bare IPv6 literal, whose port would be ambiguous.
        guard colons <= 1 else { return .failure(.unbracketedIPv6) }
        let host: Substring
        let port: Substring?
        if let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        } else {
            host = text
            port = nil
        }
        guard isHostName(host) else { return .failure(.invalidHost(host)) }
        return .success((String(host), port))
    }

    /// Parses a decimal port within `range`; nil for anything else, including signs and spaces.
    static func port(_ text: Substring, in range: ClosedRange<Int>) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = Int(text), range.contains(value) else { return nil }
        return value
    }

    /// DNS names and IPv4 literals; underscores are allowed because Kubernetes and Docker names use them.
    private static func isHostName(_ host: Substring) -> Bool {
        !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }
    }

    /// A loose IPv6 check (hex digits, colons, dots for embedded IPv4); the socket layer does the rest.
    private static func isIPv6Literal(_ host: Substring) -> Bool {
        host.contains(":") && host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}
