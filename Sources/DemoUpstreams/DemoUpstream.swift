import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An in-process HTTP/1.1 upstream for demos and end-to-end tests, able to misbehave on purpose.
///
/// Routes: `/sse`, `/slow`, `/bytes`, `/status/{code}`, `/redirect`, `/cookies`, `/reset`, `/early`, `/drop`;
/// anything else echoes the request back as JSON. See ``Behaviour`` for connection-level misbehaviour.
public final class DemoUpstream: Sendable {
    private let state: UpstreamState
    private let group: any EventLoopGroup
    private let listener: NIOLockedValueBox<(any Channel)?>

    /// The bound port; it stays the same across ``restart()``.
    public var port: Int { self.state.port }
    /// The host the listener was bound to.
    public var host: String { self.state.host }
    /// `http://host:port`, for building request URLs.
    public var baseURL: String { "http://\(self.state.authority)" }

    /// The current behaviour; changes apply to requests that arrive afterwards.
    public var behaviour: Behaviour { self.state.behaviour }
    /// A snapshot of what the upstream has seen.
    public var stats: Stats { self.state.stats }

    private init(state: UpstreamState, group: any EventLoopGroup, listener: any Channel) {
        self.state = state
        self.group = group
        self.listener = NIOLockedValueBox(listener)
    }

    /// Starts listening on `host:port` (port 0 picks an ephemeral port) on `group`.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        behaviour: Behaviour = Behaviour(),
        group: any EventLoopGroup
    ) async throws -> DemoUpstream {
        let state = UpstreamState(host: host, behaviour: behaviour)
        let listener = try await Self.bind(host: host, port: port, state: state, group: group)
        state.port = listener.localAddress?.port ?? port
        return DemoUpstream(state: state, group: group, listener: listener)
    }

    /// Changes the behaviour at run time.
    public func setBehaviour(_ behaviour: Behaviour) {
        self.state.behaviour = behaviour
    }

    /// Forgets recorded requests and the accepted-connection count; open connections are unaffected.
    public func resetStats() {
        self.state.resetStats()
    }

    /// Closes the listener and every open connection; connects are refused afterwards. Stopping twice is harmless.
    public func stop() async throws {
        await ListenerShutdown.stop(listener: self.listener, stopAccepting: { self.state.stopAccepting() })
    }

    /// Binds the same port again, keeping behaviour and stats; stops first if still running.
    public func restart() async throws {
        try await self.stop()
        self.state.startAccepting()
        let listener = try await Self.bind(host: self.host, port: self.port, state: self.state, group: self.group)
        self.listener.withLockedValue { $0 = listener }
    }

    private static func bind(
        host: String,
        port: Int,
        state: UpstreamState,
        group: any EventLoopGroup
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            // Without SO_REUSEADDR a restart would fail while closed connections sit in TIME_WAIT.
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Half-closing clients must still get their answer (see DESIGN §6a).
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                guard state.connectionOpened(channel) else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in state.connectionClosed(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: true,
                        withErrorHandling: true
                    )
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(state: state))
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}
