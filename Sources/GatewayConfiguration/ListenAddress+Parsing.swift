extension ListenAddress {
    /// Parses `host:port`, `[::1]:port`, or `:port` / `port` meaning every IPv4 interface.
    init(configuration text: String) throws(InvalidValue) {
        let usage = "use host:port, [::1]:port or :port"
        let trimmed = Substring(text)
        if let port = HostPort.port(trimmed, in: 0...65_535) {
            self.init(host: "0.0.0.0", port: port)
            return
        }
        if trimmed.first == ":" {
            guard let port = HostPort.port(trimmed.dropFirst(), in: 0...65_535) else {
                throw InvalidValue("invalid port in listen address \"\(text)\" (0-65535)")
            }
            self.init(host: "0.0.0.0", port: port)
            return
        }
        switch HostPort.split(trimmed) {
        case .failure(.unbracketedIPv6):
            throw InvalidValue("IPv6 listen address \"\(text)\" needs brackets, as in [::1]:8080")
        case .failure(.invalidHost(let host)):
            throw InvalidValue("invalid host \"\(host)\" in listen address \"\(text)\" (\(usage))")
        case .failure(.malformedBrackets):
            throw InvalidValue("invalid listen address \"\(text)\" (\(usage))")
        case .success(let (host, port)):
            guard let port else {
                throw InvalidValue("listen address \"\(text)\" has no port (\(usage))")
            }
            guard let number = HostPort.port(port, in: 0...65_535) else {
                throw InvalidValue("invalid port \"\(port)\" in listen address \"\(text)\" (0-65535)")
            }
            self.init(host: host, port: number)
        }
    }
}
