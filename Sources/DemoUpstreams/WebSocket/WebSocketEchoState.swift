import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// State shared by the listener and every connection of one ``WebSocketEchoUpstream``, whichever event loop they run on.
final class WebSocketEchoState: Sendable {
    private struct Inner {
        var stats = WebSocketEchoStats()
        var openChannels: [ObjectIdentifier: any Channel] = [:]
        var openWebSockets: Set<ObjectIdentifier> = []
        /// False once `stop()` began, so a connection accepted during shutdown is closed at once.
        var acceptsConnections = true
    }

    private let inner = NIOLockedValueBox(Inner())

    var stats: WebSocketEchoStats {
        self.inner.withLockedValue {
            var stats = $0.stats
            stats.open = $0.openWebSockets.count
            return stats
        }
    }

    func resetStats() {
        // Open connections are live state, not history, so they survive a reset.
        self.inner.withLockedValue { $0.stats = WebSocketEchoStats() }
    }

    /// Registers a freshly accepted channel; false means the server is stopping and the channel must be closed.
    func connectionOpened(_ channel: any Channel) -> Bool {
        self.inner.withLockedValue {
            guard $0.acceptsConnections else { return false }
            $0.stats.connectionsAccepted += 1
            $0.openChannels[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    func connectionClosed(_ channel: any Channel) {
        self.inner.withLockedValue {
            $0.openChannels.removeValue(forKey: ObjectIdentifier(channel))
            $0.openWebSockets.remove(ObjectIdentifier(channel))
        }
    }

    /// Called when an upgrade is accepted, just before the `101` goes out: counts it and records its request.
    func upgraded(_ channel: any Channel, request: HTTPRequestHead) {
        self.inner.withLockedValue {
            $0.stats.upgrades += 1
            $0.stats.lastUpgradeURI = request.uri
            $0.stats.lastUpgradeHeaders = request.headers.map { ($0.name, $0.value) }
            // A channel that already closed must not be counted as open forever.
            if $0.openChannels[ObjectIdentifier(channel)] != nil {
                $0.openWebSockets.insert(ObjectIdentifier(channel))
            }
        }
    }

    /// Stops admitting connections and hands back those still open, for the caller to close.
    func stopAccepting() -> [any Channel] {
        self.inner.withLockedValue {
            $0.acceptsConnections = false
            return Array($0.openChannels.values)
        }
    }
}
