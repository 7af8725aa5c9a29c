import NIOConcurrencyHelpers
import NIOCore

/// State shared by the listener and every connection of one ``DemoUpstream``, whichever event loop they run on.
final class UpstreamState: Sendable {
    private struct Inner {
        var behaviour: Behaviour
        var log = RequestLog()
        var connectionsAccepted = 0
        var openChannels: [ObjectIdentifier: any Channel] = [:]
        /// False between `stop()` and `restart()`, so a connection accepted during shutdown is closed at once.
        var acceptsConnections = true
        /// Known only once the first bind returns; 0 until then.
        var port = 0
    }

    let host: String
    private let inner: NIOLockedValueBox<Inner>

    init(host: String, behaviour: Behaviour) {
        self.host = host
        self.inner = NIOLockedValueBox(Inner(behaviour: behaviour))
    }

    var port: Int {
        get { self.inner.withLockedValue { $0.port } }
        set { self.inner.withLockedValue { $0.port = newValue } }
    }

    /// `host:port` as the server names itself in echo replies and redirects.
    var authority: String {
        let port = self.port
        return self.host.contains(":") ? "[\(self.host)]:\(port)" : "\(self.host):\(port)"
    }

    var behaviour: Behaviour {
        get { self.inner.withLockedValue { $0.behaviour } }
        set { self.inner.withLockedValue { $0.behaviour = newValue } }
    }

    var stats: Stats {
        self.inner.withLockedValue {
            Stats(
                connectionsAccepted: $0.connectionsAccepted,
                requests: $0.log.recent,
                requestCount: $0.log.totalCount,
                openConnections: $0.openChannels.count
            )
        }
    }

    func resetStats() {
        // Open connections are live state, not history, so they survive a reset.
        self.inner.withLockedValue {
            $0.log = RequestLog()
            $0.connectionsAccepted = 0
        }
    }

    func record(_ request: RecordedRequest) {
        self.inner.withLockedValue { $0.log.append(request) }
    }

    /// Registers a freshly accepted channel; false means the server is stopping and the channel must be closed.
    func connectionOpened(_ channel: any Channel) -> Bool {
        self.inner.withLockedValue {
            guard $0.acceptsConnections else { return false }
            $0.connectionsAccepted += 1
            $0.openChannels[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    func connectionClosed(_ channel: any Channel) {
        _ = self.inner.withLockedValue { $0.openChannels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Stops admitting connections and hands back those still open, for the caller to close.
    func stopAccepting() -> [any Channel] {
        self.inner.withLockedValue {
            $0.acceptsConnections = false
            return Array($0.openChannels.values)
        }
    }

    func startAccepting() {
        self.inner.withLockedValue { $0.acceptsConnections = true }
    }
}
