import NIOCore

/// A relay between a client connection and an upstream connection after `101 Switching
/// Protocols`, on their shared event loop. It ends when either side closes, or when no byte
/// moved either way for the idle timeout; the HTTP timeouts no longer apply.
final class Tunnel {
    private(set) var client: TunnelHandler?
    private(set) var upstream: TunnelHandler?
    private let eventLoop: any EventLoop
    private let idleTimeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?
    private var halfClosedSides = 0
    private var ended = false
    private var onEnd: ((String) -> Void)?
    /// Set by the loop that tracks this tunnel, to forget it when it ends.
    var onRemove: ((Tunnel) -> Void)?

    /// - Parameter onEnd: called once when the tunnel is over, with why.
    init(eventLoop: any EventLoop, idleTimeout: TimeAmount, onEnd: @escaping (String) -> Void) {
        self.eventLoop = eventLoop
        self.idleTimeout = idleTimeout
        self.onEnd = onEnd
    }

    /// Creates the two peered handlers and starts the idle timer.
    func makeHandlers() -> (client: TunnelHandler, upstream: TunnelHandler) {
        let client = TunnelHandler(tunnel: self)
        let upstream = TunnelHandler(tunnel: self)
        client.peer = upstream
        upstream.peer = client
        self.client = client
        self.upstream = upstream
        scheduleIdleCheck()
        return (client, upstream)
    }

    func touch() {
        lastActivity = .now()
    }

    /// One side closed: close the other and end.
    func sideClosed(_ side: TunnelHandler) {
        end(reason: side === client ? "client closed" : "upstream closed")
    }

    /// One side finished sending: pass the half-close on; when both have, end.
    func sideHalfClosed(_ side: TunnelHandler) {
        halfClosedSides += 1
        if halfClosedSides >= 2 {
            end(reason: "both sides finished")
        } else {
            side.peer?.peerInputClosed()
        }
    }

    private func scheduleIdleCheck() {
        idleTimer = eventLoop.assumeIsolated().scheduleTask(deadline: lastActivity + idleTimeout) { [self] in
            idleTimer = nil
            guard !ended else { return }
            if NIODeadline.now() - lastActivity >= idleTimeout {
                end(reason: "idle timeout")
            } else {
                scheduleIdleCheck()
            }
        }
    }

    /// Closes both sides (also used when the gateway shuts down).
    func end(reason: String) {
        guard !ended else { return }
        ended = true
        idleTimer?.cancel()
        idleTimer = nil
        let client = self.client
        let upstream = self.upstream
        self.client = nil
        self.upstream = nil
        client?.close()
        upstream?.close()
        client?.detach()
        upstream?.detach()
        let onEnd = self.onEnd
        self.onEnd = nil
        onEnd?(reason)
        let onRemove = self.onRemove
        self.onRemove = nil
        onRemove?(self)
    }
}
