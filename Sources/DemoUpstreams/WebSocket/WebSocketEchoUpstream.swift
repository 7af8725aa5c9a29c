import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// An in-process WebSocket echo server for demos and end-to-end tests of WebSocket proxying.
///
/// HTTP/1.1 on the outside: a request whose path starts with `/ws` (`/ws`, `/ws/chat?x=1`, …) and carries WebSocket
/// upgrade headers is upgraded (`101`); `/ws-refuse…` is refused with `403`; an upgrade with broken WebSocket headers
/// gets `400`; every other request — including `/ws` without upgrade headers — gets `200 not a websocket`. Only the
/// first request of a connection can upgrade (NIO's upgrade handler leaves the pipeline after it). If the client offers `Sec-WebSocket-Protocol`, the first
/// offered protocol is accepted. Frames of up to ``maxFrameSize`` bytes are accepted.
///
/// After the upgrade, see ``WebSocketEchoHandler`` for what is echoed: data frames frame by frame (fragmentation is
/// preserved, not reassembled), ping → pong, close → close with the same code, and the `close:<code>` / `ping-me`
/// commands.
public final class WebSocketEchoUpstream: Sendable {
    /// The largest frame the server accepts from a client (16 MiB), well above a 1 MiB test message.
    public static let maxFrameSize = 16 << 20

    private let state: WebSocketEchoState
    private let listener: NIOLockedValueBox<(any Channel)?>

    /// The bound port.
    public let port: Int
    /// The host the listener was bound to.
    public let host: String
    /// `ws://host:port`, for building WebSocket URLs.
    public var baseURL: String {
        self.host.contains(":") ? "ws://[\(self.host)]:\(self.port)" : "ws://\(self.host):\(self.port)"
    }

    /// A snapshot of upgrades, open WebSocket connections and the last upgrade request.
    public var stats: WebSocketEchoStats { self.state.stats }
    /// The request target of the most recent upgrade; nil before the first.
    public var lastUpgradeURI: String? { self.state.stats.lastUpgradeURI }
    /// The request headers of the most recent upgrade, as received.
    public var lastUpgradeHeaders: [(String, String)] { self.state.stats.lastUpgradeHeaders }

    private init(state: WebSocketEchoState, listener: any Channel, host: String, port: Int) {
        self.state = state
        self.listener = NIOLockedValueBox(listener)
        self.host = host
        self.port = port
    }

    /// Starts listening on `host:port` (port 0 picks an ephemeral port) on `group`.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        group: any EventLoopGroup
    ) async throws -> WebSocketEchoUpstream {
        let state = WebSocketEchoState()
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard state.connectionOpened(channel) else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in state.connectionClosed(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel, state: state)
                }
            }
            .bind(host: host, port: port)
            .get()
        return WebSocketEchoUpstream(
            state: state,
            listener: listener,
            host: host,
            port: listener.localAddress?.port ?? port
        )
    }

    /// Starts an upstream on `group`, runs `body` with it and stops it, also when `body` throws.
    public static func withRunning<Result>(
        group: any EventLoopGroup, _ body: (WebSocketEchoUpstream) async throws -> Result
    ) async throws -> Result {
        try await withStopping(try await start(group: group), stop: { try await $0.stop() }, body)
    }

    /// Forgets the counters and the last upgrade request; open connections are unaffected.
    public func resetStats() {
        self.state.resetStats()
    }

    /// Closes the listener and every open connection (WebSocket or not), without a closing handshake.
    /// When it returns, `stats.open` is 0. Stopping twice is harmless.
    public func stop() async throws {
        await ListenerShutdown.stop(listener: self.listener, stopAccepting: { self.state.stopAccepting() })
    }

    /// Whether the upgrade for this request target is accepted: its path starts with `/ws` but not `/ws-refuse`.
    static func isUpgradePath(_ uri: String) -> Bool {
        let path = Self.path(of: uri)
        return path.hasPrefix("/ws") && !path.hasPrefix("/ws-refuse")
    }

    /// Whether this request target is answered `403`.
    static func isRefusedPath(_ uri: String) -> Bool {
        Self.path(of: uri).hasPrefix("/ws-refuse")
    }

    private static func path(of uri: String) -> Substring {
        uri[..<(uri.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? uri.endIndex)]
    }

    private static func configure(_ channel: any Channel, state: WebSocketEchoState) throws {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: Self.maxFrameSize,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                guard Self.isUpgradePath(head.uri) else {
                    // Not upgraded: the request goes on to WebSocketPlainHTTPHandler (403 or 200).
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                // Recorded before the 101 goes out, so a client that has its 101 always sees the upgrade counted.
                state.upgraded(channel, request: head)
                var headers = HTTPHeaders()
                if let offered = head.headers[canonicalForm: "sec-websocket-protocol"].first {
                    headers.add(name: "Sec-WebSocket-Protocol", value: String(offered))
                }
                return channel.eventLoop.makeSucceededFuture(headers)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    // The plain HTTP handler must not see WebSocket frames.
                    let plain = try pipeline.handler(type: WebSocketPlainHTTPHandler.self)
                    pipeline.removeHandler(plain, promise: nil)
                    try pipeline.addHandler(WebSocketEchoHandler())
                }
            }
        )
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: true,
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }),
            withErrorHandling: true
        )
        try channel.pipeline.syncOperations.addHandler(WebSocketPlainHTTPHandler(), name: WebSocketPlainHTTPHandler.name)
    }
}
