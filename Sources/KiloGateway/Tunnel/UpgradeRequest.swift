import NIOHTTP1

/// Recognises HTTP/1.1 upgrade requests (RFC 9110 §7.8).
enum UpgradeRequest {
    /// The protocol a client asks to switch to (`websocket`), when `Connection` names `upgrade`.
    static func requestedProtocol(_ head: HTTPRequestHead) -> String? {
        guard head.version == .http1_1, let value = head.headers.first(name: "upgrade"), !value.isEmpty,
            head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" })
        else { return nil }
        return value
    }

    /// Whether NIO's request decoder treats this request as an upgrade and will stop parsing
    /// after it: the connection cannot carry another request.
    static func endsHTTPParsing(_ head: HTTPRequestHead) -> Bool {
        head.method.isCONNECT || (head.headers.contains(name: "upgrade")
            && head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }))
    }
}
