extension UpstreamURL {
    /// Parses `http[s]://host[:port][/basePath]`, bracketing IPv6 literals; the port defaults to 80 (443 for https).
    ///
    /// Query, fragment and user info are refused rather than ignored: each would silently
    /// change every forwarded request in a way nobody would guess from the path alone.
    init(configuration text: String) throws(InvalidValue) {
        let usage = "expected http[s]://host[:port][/path]"
        guard let separator = text.firstRange(of: "://") else {
            throw InvalidValue("invalid url \"\(text)\" (\(usage))")
        }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw InvalidValue("unsupported scheme \"\(scheme)\" in url \"\(text)\" (\(usage))")
        }
        let rest = text[separator.upperBound...]
        if rest.contains("?") || rest.contains("#") {
            throw InvalidValue("url \"\(text)\" must not have a query or fragment")
        }
        if rest.contains(where: { $0.isWhitespace }) {
            throw InvalidValue("url \"\(text)\" must not contain spaces")
        }
        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<pathStart]
        if authority.contains("@") {
            throw InvalidValue("url \"\(text)\" must not contain user info (user:password@)")
        }
        if authority.isEmpty {
            throw InvalidValue("url \"\(text)\" has no host (\(usage))")
        }
        switch HostPort.split(authority) {
        case .failure(.unbracketedIPv6):
            throw InvalidValue("IPv6 address in url \"\(text)\" needs brackets, as in http://[::1]:8080")
        case .failure(.invalidHost(let host)):
            throw InvalidValue("invalid host \"\(host)\" in url \"\(text)\"")
        case .failure(.malformedBrackets):
            throw InvalidValue("invalid url \"\(text)\" (\(usage))")
        case .success(let (host, portText)):
            var port = scheme == "https" ? 443 : 80
            if let portText {
                guard let number = HostPort.port(portText, in: 1...65_535) else {
                    throw InvalidValue("invalid port \"\(portText)\" in url \"\(text)\" (1-65535)")
                }
                port = number
            }
            // Trimmed so that joining basePath with the request path never yields "//".
            var basePath = rest[pathStart...]
            while basePath.last == "/" { basePath.removeLast() }
            self.init(scheme: scheme, host: host, port: port, basePath: String(basePath))
        }
    }
}
