/// A snapshot of what a ``DemoUpstream`` has seen since it started or since ``DemoUpstream/resetStats()``.
public struct Stats: Sendable {
    /// How many at most ``requests`` keeps; older ones are dropped so long benchmarks stay bounded.
    public static let recordedRequestLimit = 10_000

    /// Connections accepted.
    public var connectionsAccepted: Int
    /// The most recent requests, at most ``recordedRequestLimit``, in arrival order.
    public var requests: [RecordedRequest]
    /// Every request seen, including those beyond ``recordedRequestLimit``.
    public var requestCount: Int
    /// Connections open right now.
    public var openConnections: Int

    /// Creates a snapshot.
    public init(connectionsAccepted: Int = 0, requests: [RecordedRequest] = [], requestCount: Int = 0, openConnections: Int = 0) {
        self.connectionsAccepted = connectionsAccepted
        self.requests = requests
        self.requestCount = requestCount
        self.openConnections = openConnections
    }
}
