/// A request as the upstream received it, recorded once its body was fully read.
public struct RecordedRequest: Sendable {
    /// The request method, e.g. `GET`.
    public var method: String
    /// The raw request target, byte for byte as sent.
    public var uri: String
    /// The HTTP version, e.g. `HTTP/1.1`.
    public var version: String
    /// Header fields in arrival order, names as sent, duplicates kept.
    public var headers: [(String, String)]
    /// Body bytes read; -1 when the route answered without reading the body (`/early`, `/drop`).
    public var bodyLength: Int
    /// Lowercase hex SHA-256 of the body; empty when the body was not read.
    public var bodySHA256: String

    /// Creates a record.
    public init(
        method: String,
        uri: String,
        version: String = "HTTP/1.1",
        headers: [(String, String)],
        bodyLength: Int,
        bodySHA256: String
    ) {
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers
        self.bodyLength = bodyLength
        self.bodySHA256 = bodySHA256
    }

    /// All values of the header `name`, compared case-insensitively, in order.
    public func values(forHeader name: String) -> [String] {
        let wanted = name.lowercased()
        return self.headers.filter { $0.0.lowercased() == wanted }.map(\.1)
    }

    /// The first value of the header `name`, compared case-insensitively.
    public func value(forHeader name: String) -> String? {
        self.values(forHeader: name).first
    }
}
