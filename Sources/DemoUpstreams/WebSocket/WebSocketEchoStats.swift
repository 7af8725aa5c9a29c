/// A snapshot of what a ``WebSocketEchoUpstream`` has seen since it started or since
/// ``WebSocketEchoUpstream/resetStats()``.
public struct WebSocketEchoStats: Sendable {
    /// TCP connections accepted (plain HTTP and WebSocket alike).
    public var connectionsAccepted: Int
    /// Upgrades to WebSocket accepted (counted just before the `101` is sent).
    public var upgrades: Int
    /// WebSocket connections open right now.
    public var open: Int
    /// The request target of the most recent upgrade, e.g. `/ws/chat?x=1`; nil before the first.
    public var lastUpgradeURI: String?
    /// The request headers of the most recent upgrade, in arrival order with their original spelling.
    public var lastUpgradeHeaders: [(String, String)]

    /// Creates a snapshot.
    public init(
        connectionsAccepted: Int = 0,
        upgrades: Int = 0,
        open: Int = 0,
        lastUpgradeURI: String? = nil,
        lastUpgradeHeaders: [(String, String)] = []
    ) {
        self.connectionsAccepted = connectionsAccepted
        self.upgrades = upgrades
        self.open = open
        self.lastUpgradeURI = lastUpgradeURI
        self.lastUpgradeHeaders = lastUpgradeHeaders
    }
}
