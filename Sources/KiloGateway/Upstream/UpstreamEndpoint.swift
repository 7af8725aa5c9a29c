import GatewayConfiguration

/// Where a pool connects: scheme, host and port (the base path is not part of it).
struct UpstreamEndpoint: Hashable, CustomStringConvertible {
    var scheme: String
    var host: String
    var port: Int

    init(scheme: String = "http", host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    init(_ url: UpstreamURL) {
        self.init(scheme: url.scheme, host: url.host, port: url.port)
    }

    /// `host:port` as sent in a `Host` header.
    var authority: String { host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]:\(port)" : "\(host):\(port)" }

    var description: String { "\(scheme)://\(authority)" }
}
