import GatewayConfiguration

/// Rewrites a redirect's `Location` that points at the upstream into the gateway's public path,
/// like nginx's `proxy_redirect default`: `http://kilo-meds:9000/x` and `/x` both become `/api/meds/x`.
struct LocationRewriter {
    /// The upstream the request went to.
    var upstream: UpstreamURL
    /// The public prefix the client used, `/api/meds` or `/meds`.
    var publicPrefix: String

    /// The rewritten value, or `nil` to leave the header as it is.
    func rewrite(_ location: String) -> String? {
        let pathAndQuery: Substring
        if location.hasPrefix("/") && !location.hasPrefix("//") {
            pathAndQuery = location[...]
        } else if let rest = stripUpstreamOrigin(location) {
            pathAndQuery = rest.isEmpty ? "/" : rest
        } else {
            return nil
        }
        guard let relative = stripBasePath(pathAndQuery) else { return nil }
        return publicPrefix + relative
    }

    private func stripUpstreamOrigin(_ location: String) -> Substring? {
        let lowered = location.lowercased()
        let prefixes = [
            "\(upstream.scheme)://\(upstream.authority)".lowercased(),
            upstream.port == 80 && upstream.scheme == "http" ? "http://\(bracketedHost)".lowercased() : nil,
        ].compactMap { $0 }
        for prefix in prefixes where lowered.hasPrefix(prefix) {
            let rest = location.dropFirst(prefix.count)
            if rest.isEmpty || rest.first == "/" || rest.first == "?" { return rest }
        }
        return nil
    }

    private var bracketedHost: String { upstream.host.utf8.contains(UInt8(ascii: ":")) ? "[\(upstream.host)]" : upstream.host }

    private func stripBasePath(_ path: Substring) -> Substring? {
        let base = upstream.basePath
        if base.isEmpty { return path.first == "?" ? "/" + path : path }
        guard path.hasPrefix(base) else { return nil }
        let rest = path.dropFirst(base.count)
        if rest.isEmpty { return "/" }
        if rest.first == "/" { return rest }
        if rest.first == "?" { return "/" + rest }
        return nil
    }
}
