import DemoUpstreams
import GatewayConfiguration
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

@testable import KiloGateway

extension EndToEndTests {
    /// Per-connection objects go away with their connection.
    ///
    /// Timers hold the client connection handler and the upstream pool strongly (a `weak` capture
    /// would give them side tables, which slows every retain), and a pool's connections hold the
    /// pool strongly; closing a connection or shutting a pool down must therefore cancel those
    /// timers and break those cycles. Every timeout configured here is a minute long, so only that
    /// cancellation can free an object within ``bound``: a timer left running fails the test.
    @Suite struct ObjectLifetimeTests {
        /// How long a freed object may take to go: far below every timer configured here.
        static let bound: Duration = .seconds(3)
        /// Every client and pool timeout in these tests.
        static let longTimeout: Duration = .seconds(60)

        // MARK: client connection handler

        @Test func handlerIsFreedWhenAKeepAliveClientClosesBetweenRequests() async throws {
            try await withWatchedListener { listener in
                let client = try await RawConnection.open(port: listener.port)
                try await client.send("GET /api/echo/lifetime HTTP/1.1\r\nHost: test\r\n\r\n")
                let answered = await eventually(timeout: Self.bound) { RawConnection.isCompleteResponse(client.text) }
                try #require(answered, "\(client.text)")
                #expect(client.text.hasPrefix("HTTP/1.1 200"), "\(client.text)")
                #expect(!client.text.lowercased().contains("connection: close"), "the connection stays open for the next request")
                // The response is out and the connection waits for another request: the idle timer runs.
                let waiting = try await listener.handlers()
                #expect(waiting == HandlerCount(accepted: 1, alive: 1))

                try await client.close()
                let freed = try await listener.handlersFreed()
                #expect(freed, "the handler outlived its closed keep-alive connection (a timer left running?)")
            }
        }

        /// A client that goes away in the middle of a head. It resets the connection: after a normal
        /// close the gateway would answer the incomplete head with a 400 first, which ends the header timer.
        @Test func handlerIsFreedWhenAClientResetsInTheMiddleOfAHead() async throws {
            try await withWatchedListener { listener in
                // Accepted: the header timer runs from here until a head is complete.
                let client = try await listener.acceptedConnection()
                try await client.send("GET /api/echo/lifetime HTTP/1.1\r\nHost: test\r\nX-Partial: ")
                let waiting = try await listener.handlers()
                #expect(waiting == HandlerCount(accepted: 1, alive: 1))

                try await client.reset()
                let freed = try await listener.handlersFreed()
                #expect(freed, "the handler outlived a connection reset mid-head (header timer left running?)")
            }
        }

        @Test func handlerIsFreedWhenAClientClosesWithoutSendingAnything() async throws {
            try await withWatchedListener { listener in
                // Accepted: the header timer runs from here until a head is complete.
                let client = try await listener.acceptedConnection()

                try await client.close()
                let freed = try await listener.handlersFreed()
                #expect(freed, "the handler outlived a connection closed before its first request (header timer left running?)")
            }
        }

        /// A client that resets its connection while its request is proxied. (One that closes
        /// normally looks half-closed to the gateway, which then still waits to answer it.)
        @Test func handlerIsFreedWhenAClientResetsDuringAProxiedRequest() async throws {
            try await withWatchedListener { listener in
                let client = try await RawConnection.open(port: listener.port)
                // The upstream answers after 10 s, beyond the bound: the exchange must let go at the reset.
                try await client.send("GET /api/echo/slow?delay=10s HTTP/1.1\r\nHost: test\r\n\r\n")
                let proxied = try await eventually(timeout: Self.bound) { try await listener.activeRequests() == 1 }
                try #require(proxied)

                try await client.reset()
                let freed = try await listener.handlersFreed()
                #expect(freed, "the handler outlived a connection reset while its request was proxied")
                let active = try await listener.activeRequests()
                #expect(active == 0)
            }
        }

        // MARK: upstream pool

        @Test func poolIsFreedAfterShutdownWithAnIdleConnection() async throws {
            try await withWatchedPool { pool in
                pool.lease(.first)
                let leased = try await eventually(timeout: Self.bound) { try await pool.on { $0.first.connection != nil } }
                try #require(leased)
                // One exchange on the connection, with a response deadline (a minute) armed as a proxied request arms it.
                try await pool.on { $0.first.sendRequest(deadline: .now() + .seconds(60)) }
                let answered = try await eventually(timeout: Self.bound) { try await pool.on { $0.first.responseEnded } }
                try #require(answered)
                // Back in the pool, idle: the sweep timer runs for the idle timeout.
                try await pool.on { $0.release(.first, reusable: true) }
                let idle = try await pool.on { $0.owner?.idleCount }
                #expect(idle == 1)
                let before = try await pool.objects()
                #expect(before == PoolObjects(pool: true, connection: true))

                try await pool.on { $0.shutDownAndForget() }
                let freed = try await pool.freed()
                let left = try await pool.objects()
                #expect(freed, "after shutdown: \(left) (sweep timer left running, or a connection–pool cycle?)")
            }
        }

        @Test func poolIsFreedAfterShutdownWithALeaseWaitingInTheQueue() async throws {
            try await withWatchedPool { pool in
                pool.lease(.first)
                let leased = try await eventually(timeout: Self.bound) { try await pool.on { $0.first.connection != nil } }
                try #require(leased)
                // The pool's only connection is leased: the second lease waits, its queue timer running.
                pool.lease(.second)
                let waiting = try await pool.on { $0.second.connection == nil && $0.second.failure == nil }
                #expect(waiting)

                try await pool.on { $0.shutDownAndForget() }
                let refused = try await pool.on { $0.second.failedAsClosed }
                #expect(refused, "a shut-down pool refuses its waiting leases")
                // The exchange ends: a shut-down pool closes the connection instead of keeping it.
                try await pool.on { $0.release(.first, reusable: true) }
                let freed = try await pool.freed()
                let left = try await pool.objects()
                #expect(freed, "after shutdown: \(left) (queue timer left running?)")
            }
        }
    }
}

// MARK: - A watched listener

/// How many client connection handlers a ``WatchedListener`` made, and how many still exist.
private struct HandlerCount: Equatable, Sendable, CustomStringConvertible {
    var accepted: Int
    var alive: Int
    var description: String { "\(alive) of \(accepted) handlers alive" }
}

/// The gateway's plain listener (its bootstrap, its HTTP/1 pipeline, one ``LoopContext``) on one
/// loop of the gateway group, holding a weak reference to the handler of every connection it accepts.
/// All timeouts of the client side are ``EndToEndTests/ObjectLifetimeTests/longTimeout``.
private struct WatchedListener: Sendable {
    let loop: any EventLoop
    let channel: any Channel
    let port: Int
    private let state: NIOLoopBound<State>

    private final class State {
        let context: LoopContext
        var handlers: [Weak<ClientConnectionHandler>] = []
        init(context: LoopContext) { self.context = context }
    }

    static func start(upstreamPort: Int) async throws -> WatchedListener {
        let loop = TestGroups.gateway.next()
        let config = GatewayConfig(
            listen: ListenAddress(host: "127.0.0.1", port: 0), accessLog: false,
            services: ["echo": ServiceConfig(name: "echo", url: UpstreamURL(host: "127.0.0.1", port: upstreamPort))],
            limits: ClientLimits(
                headerTimeout: EndToEndTests.ObjectLifetimeTests.longTimeout,
                keepAliveTimeout: EndToEndTests.ObjectLifetimeTests.longTimeout))
        let contexts = try await LoopContexts.single(on: loop, config: config)
        let state = try await loop.submit {
            NIOLoopBound(State(context: contexts.context(for: loop)!), eventLoop: loop)
        }.get()
        let bootstrap = ListenerBootstrap.make(group: loop, loops: contexts) { channel, context in
            try ClientPipeline.configureHTTP1(channel, loop: context, scheme: "http")
            let handler = try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self)
            state.value.handlers.append(Weak(handler))
        }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        return WatchedListener(loop: loop, channel: channel, port: channel.localAddress!.port!, state: state)
    }

    /// Counted on the loop, where the handlers live.
    func handlers() async throws -> HandlerCount {
        try await loop.submit { [state] in
            let handlers = state.value.handlers
            return HandlerCount(accepted: handlers.count, alive: handlers.filter { $0.value != nil }.count)
        }.get()
    }

    /// Opens a client connection and waits, at most the bound, until its handler is in the pipeline.
    func acceptedConnection() async throws -> RawConnection {
        let accepted = try await handlers().accepted
        let client = try await RawConnection.open(port: port)
        let seen = try await eventually(timeout: EndToEndTests.ObjectLifetimeTests.bound) { try await handlers().accepted == accepted + 1 }
        try #require(seen, "the gateway did not accept the connection")
        return client
    }

    /// Waits, at most ``EndToEndTests/ObjectLifetimeTests/bound``, until no handler is left.
    func handlersFreed() async throws -> Bool {
        try await eventually(timeout: EndToEndTests.ObjectLifetimeTests.bound) { try await handlers().alive == 0 }
    }

    func activeRequests() async throws -> Int {
        try await loop.submit { [state] in state.value.context.activeRequests }.get()
    }

    /// Stops listening and closes every connection and upstream pool of the loop context.
    func stop() async {
        try? await channel.close()
        try? await loop.submit { [state] in state.value.context.closeEverything() }.get()
    }
}

/// Runs `body` with a ``WatchedListener`` routing `/api/echo` to a ``DemoUpstream``; stops both after.
private func withWatchedListener(_ body: (WatchedListener) async throws -> Void) async throws {
    let upstream = try await DemoUpstream.start(group: TestGroups.upstream)
    try await withStopping(upstream, stop: { try await $0.stop() }) { upstream in
        let listener = try await WatchedListener.start(upstreamPort: upstream.port)
        try await withStopping(listener, stop: { await $0.stop() }, body)
    }
}

/// A client connection that sends raw bytes and collects what comes back.
private struct RawConnection: Sendable {
    let channel: any Channel
    private let received: NIOLockedValueBox<String>

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<String>
        init(received: NIOLockedValueBox<String>) { self.received = received }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLockedValue { $0 += String(buffer: buffer) }
        }
    }

    static func open(port: Int) async throws -> RawConnection {
        let received = NIOLockedValueBox("")
        let channel = try await ClientBootstrap(group: TestGroups.client)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, received: received)
    }

    /// Everything received so far.
    var text: String { received.withLockedValue { $0 } }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    func close() async throws {
        try await channel.close().get()
    }

    /// Closes with a reset (`SO_LINGER` 0) instead of a `FIN`.
    func reset() async throws {
        let provider = try #require(channel as? any SocketOptionProvider)
        try await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        try await channel.close().get()
    }

    /// Whether `text` holds a whole response framed by `Content-Length`.
    static func isCompleteResponse(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let separator = Array("\r\n\r\n".utf8)
        guard let headEnd = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return false }
        let head = String(decoding: bytes[..<headEnd], as: UTF8.self).lowercased()
        let prefix = "content-length:"
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix(prefix) }),
            let length = Int(line.dropFirst(prefix.count).filter { $0 != " " })
        else { return false }
        return bytes.count - (headEnd + separator.count) >= length
    }
}

// MARK: - A watched pool

/// Whether a pool and the connection its first lease got still exist.
private struct PoolObjects: Equatable, Sendable, CustomStringConvertible {
    var pool: Bool
    var connection: Bool
    var description: String { "pool \(pool ? "alive" : "freed"), connection \(connection ? "alive" : "freed")" }
}

/// An ``UpstreamPool`` of one connection to a loopback upstream, owned as `LoopContext.pools` owns
/// one and otherwise watched only weakly, with two requesters that lease from it as exchanges do.
private final class PoolWatch {
    /// The pool's owner, until ``shutDownAndForget()`` (as a reload shuts a pool down and drops it).
    private(set) var owner: UpstreamPool?
    weak var pool: UpstreamPool?
    let first = TestLease()
    let second = TestLease()

    init(upstreamPort: Int, loop: any EventLoop) {
        let pool = UpstreamPool(
            endpoint: UpstreamEndpoint(host: "127.0.0.1", port: upstreamPort), eventLoop: loop,
            pool: ServiceSettings.Pool(
                maxConnections: 1, idleTimeout: EndToEndTests.ObjectLifetimeTests.longTimeout, maxQueue: 4,
                queueTimeout: EndToEndTests.ObjectLifetimeTests.longTimeout),
            connectTimeout: .seconds(5), shareOfLimit: 1)
        owner = pool
        self.pool = pool
    }

    enum Which: Sendable { case first, second }

    subscript(_ which: Which) -> TestLease {
        switch which {
        case .first: first
        case .second: second
        }
    }

    /// Asks the owner's pool for a connection, as an exchange does (it keeps the pool until it ends).
    func lease(_ which: Which) {
        guard let owner else { return }
        self[which].pool = owner
        owner.lease(for: self[which])
    }

    /// Ends the lease's exchange: the connection goes back to the pool it came from.
    func release(_ which: Which, reusable: Bool) {
        let lease = self[which]
        if let connection = lease.connection {
            lease.pool?.release(connection, reusable: reusable)
        }
        lease.connection = nil
        lease.pool = nil
    }

    func shutDownAndForget() {
        owner?.shutdown()
        owner = nil
    }
}

/// Leases a connection and runs one bodyless `GET` on it, as a ``ProxyExchange`` would.
private final class TestLease: PoolLeaseRequester, UpstreamConnectionDelegate {
    /// The pool leased from, held as ``ProxyExchange`` holds it: until the exchange ends.
    var pool: UpstreamPool?
    var connection: UpstreamConnection?
    /// The connection last leased, watched weakly.
    weak var leased: UpstreamConnection?
    var failure: PoolLeaseFailure?
    var responseEnded = false

    var failedAsClosed: Bool {
        if case .closed = failure { return true }
        return false
    }

    func leaseSucceeded(_ connection: UpstreamConnection) {
        self.connection = connection
        leased = connection
    }
    func leaseFailed(_ failure: PoolLeaseFailure) {
        self.failure = failure
        pool = nil  // the exchange would end here
    }

    func sendRequest(deadline: NIODeadline) {
        guard let connection else { return }
        connection.beginRequest(delegate: self)
        connection.armDeadline(deadline)
        connection.writeHead(method: .GET, chunked: false) { $0.writeString("GET /lifetime HTTP/1.1\r\nHost: test\r\n\r\n") }
        connection.write(.end(nil))
        connection.flush()
    }

    func upstreamReceived(_ part: HTTP1Parser.Part) {
        if case .end = part {
            responseEnded = true
            connection?.disarmDeadline()
        }
    }

    func upstreamReadComplete() {}
    func upstreamWritabilityChanged(isWritable: Bool) {}
    func upstreamClosed(error: (any Error)?) {}
    func upstreamDeadlinePassed() {}
}

/// A ``PoolWatch`` on one loop of the gateway group, reached from the test by submitting work there.
private struct WatchedPool: Sendable {
    let loop: any EventLoop
    private let watch: NIOLoopBound<PoolWatch>

    init(loop: any EventLoop, watch: NIOLoopBound<PoolWatch>) {
        self.loop = loop
        self.watch = watch
    }

    func on<T: Sendable>(_ body: @escaping @Sendable (PoolWatch) -> T) async throws -> T {
        try await loop.submit { [watch] in body(watch.value) }.get()
    }

    /// Asks the pool for a connection for `lease`; the answer comes on the loop.
    func lease(_ which: PoolWatch.Which) {
        loop.execute { [watch] in watch.value.lease(which) }
    }

    /// Waits, at most ``EndToEndTests/ObjectLifetimeTests/bound``, until the pool and its connection are gone.
    func freed() async throws -> Bool {
        try await eventually(timeout: EndToEndTests.ObjectLifetimeTests.bound) {
            try await objects() == PoolObjects(pool: false, connection: false)
        }
    }

    func objects() async throws -> PoolObjects {
        try await on { PoolObjects(pool: $0.pool != nil, connection: $0.first.leased != nil) }
    }
}

/// Runs `body` with a ``WatchedPool`` to a ``DemoUpstream``; stops the upstream after.
private func withWatchedPool(_ body: (WatchedPool) async throws -> Void) async throws {
    let upstream = try await DemoUpstream.start(group: TestGroups.upstream)
    try await withStopping(upstream, stop: { try await $0.stop() }) { upstream in
        let loop = TestGroups.gateway.next()
        let port = upstream.port
        let watch = try await loop.submit { NIOLoopBound(PoolWatch(upstreamPort: port, loop: loop), eventLoop: loop) }.get()
        let pool = WatchedPool(loop: loop, watch: watch)
        do {
            try await body(pool)
        } catch {
            try? await pool.on { $0.shutDownAndForget() }
            throw error
        }
        try await pool.on { $0.shutDownAndForget() }
    }
}

/// A weak reference, for keeping track of an object without keeping it alive.
private struct Weak<Object: AnyObject> {
    weak var value: Object?
    init(_ value: Object) { self.value = value }
}
