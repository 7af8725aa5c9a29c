import NIOHTTP1

/// Where an upstream redirect points, for `followRedirects: true`.
struct RedirectTarget: Equatable {
    var endpoint: UpstreamEndpoint
    /// Origin-form target (path and query).
    var target: String

    /// Statuses that are followed.
    static func isRedirect(_ status: HTTPResponseStatus) -> Bool {
        [301, 302, 303, 307, 308].contains(status.code)
    }

    /// Resolves a `Location` against the endpoint that sent it; `nil` for forms not followed
    /// (relative references without a leading `/`, other schemes).
    init?(location: String, relativeTo current: UpstreamEndpoint) {
        if location.hasPrefix("/") && !location.hasPrefix("//") {
            self.endpoint = current
            self.target = location.firstIndex(of: "#").map { String(location[..<$0]) } ?? location
            return
        }
        guard location.lowercased().hasPrefix("http://") else { return nil }
        let rest = location.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = rest[authorityEnd...]
        if let hash = path.firstIndex(of: "#") { path = path[..<hash] }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        let host: Substring
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()) else { return nil }
                port = parsed
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let parsed = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = parsed
        } else {
            host = authority
        }
        guard (1...65535).contains(port) else { return nil }
        self.endpoint = UpstreamEndpoint(scheme: "http", host: String(host), port: port)
        self.target = path.isEmpty ? "/" : (path.first == "?" ? "/" + path : String(path))
    }
}
