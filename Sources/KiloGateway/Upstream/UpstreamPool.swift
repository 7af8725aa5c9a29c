import GatewayConfiguration
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS

/// Who asked for a connection; told the outcome exactly once, on the pool's event loop.
protocol PoolLeaseRequester: AnyObject {
    func leaseSucceeded(_ connection: UpstreamConnection)
    func leaseFailed(_ failure: PoolLeaseFailure)
}

/// Why a lease failed.
enum PoolLeaseFailure: Error {
    /// Connecting failed; nothing was sent.
    case connect(any Error)
    /// The pool and its queue were full, or the queue wait ran out.
    case exhausted
    /// The pool is shutting down.
    case closed
}

/// The keep-alive pool for one endpoint on one event loop. Not thread-safe by design: every
/// call happens on `eventLoop`, so the request path takes no lock.
final class UpstreamPool {
    /// The largest response head accepted from an upstream (NIO's decoder default).
    static let maxResponseHeadBytes = 80 * 1024

    let endpoint: UpstreamEndpoint
    let eventLoop: any EventLoop
    private var state: PoolState
    private let connectTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let queueTimeout: TimeAmount

    private var connections: [Int: UpstreamConnection] = [:]
    private var waiters: [Int: Waiter] = [:]
    private var nextID = 0
    private(set) var isShutDown = false
    private var sweepTimer: Scheduled<Void>?

    private struct Waiter {
        var requester: any PoolLeaseRequester
        var timer: Scheduled<Void>?
    }

    /// The settings this pool was made with (a reload with other settings replaces the pool).
    let poolSettings: ServiceSettings.Pool
    let connectTimeoutSetting: Duration
    /// How an `https` endpoint is verified (unused for `http`).
    let upstreamTLSSetting: UpstreamTLS
    /// Built on the first `https` connection and shared by all later ones; a failed build is retried.
    private var sslContext: NIOSSLContext?
    /// The event loop's clock, for the connections' decoders.
    private let clock: LoopClock

    init(
        endpoint: UpstreamEndpoint, eventLoop: any EventLoop, pool: ServiceSettings.Pool, connectTimeout: Duration,
        shareOfLimit loops: Int, upstreamTLS: UpstreamTLS = UpstreamTLS(), clock: LoopClock = LoopClock()
    ) {
        self.clock = clock
        self.endpoint = endpoint
        self.eventLoop = eventLoop
        self.poolSettings = pool
        self.connectTimeoutSetting = connectTimeout
        self.upstreamTLSSetting = upstreamTLS
        let perLoop = (pool.maxConnections + max(loops, 1) - 1) / max(loops, 1)
        self.state = PoolState(maxConnections: perLoop, maxQueue: pool.maxQueue)
        self.connectTimeout = TimeAmount(connectTimeout)
        self.idleTimeout = TimeAmount(pool.idleTimeout)
        self.queueTimeout = TimeAmount(pool.queueTimeout)
    }

    /// Connections open or opening, for tests and status.
    var connectionCount: Int { state.totalConnections }
    var idleCount: Int { state.idle.count }

    /// Asks for a connection; the requester hears back, possibly before this returns.
    /// - Parameter fresh: open a new connection rather than reuse an idle one.
    func lease(for requester: any PoolLeaseRequester, fresh: Bool = false) {
        guard !isShutDown else {
            requester.leaseFailed(.closed)
            return
        }
        let waiterID = makeID()
        switch state.lease(waiter: waiterID, requireFresh: fresh) {
        case .useIdle(let id):
            guard let connection = connections[id] else { return lease(for: requester) }
            if connection.isActive {
                requester.leaseSucceeded(connection)
            } else {
                // Closed while idle but not yet reported: drop it and ask again.
                _ = state.release(id, reusable: false)
                connections[id] = nil
                lease(for: requester)
            }
        case .connect:
            connect(for: requester)
        case .replaceIdle(let id):
            connections.removeValue(forKey: id)?.close()
            connect(for: requester)
        case .wait:
            let timer = eventLoop.assumeIsolated().scheduleTask(in: queueTimeout) { [self] in
                self.waiterTimedOut(waiterID)
            }
            waiters[waiterID] = Waiter(requester: requester, timer: timer)
        case .reject:
            requester.leaseFailed(.exhausted)
        }
    }

    /// Withdraws a queued request (its client went away).
    func cancelLease(for requester: any PoolLeaseRequester) {
        guard let (id, waiter) = waiters.first(where: { $0.value.requester === requester }) else { return }
        waiter.timer?.cancel()
        waiters[id] = nil
        state.cancelWaiter(id)
    }

    /// Returns a leased connection; `reusable` when a whole exchange completed on it with keep-alive.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        connection.delegate = nil
        let keep = reusable && connection.isActive && !isShutDown
        switch state.release(connection.id, reusable: keep) {
        case .handOver(let id, let waiterID):
            let waiter = waiters.removeValue(forKey: waiterID)
            waiter?.timer?.cancel()
            if let waiter {
                waiter.requester.leaseSucceeded(connection)
            } else {
                _ = state.release(id, reusable: true)
                park(connection)
            }
        case .park:
            park(connection)
        case .close(let id, let waiterID):
            connections[id] = nil
            connection.close()
            if let waiterID { connectForWaiter(waiterID) }
        }
    }

    /// Takes a leased connection out of the pool for good without closing it (it became a tunnel).
    func detach(_ connection: UpstreamConnection) {
        connection.delegate = nil
        connection.pool = nil
        connections[connection.id] = nil
        if case .close(_, let waiterID) = state.release(connection.id, reusable: false), let waiterID {
            connectForWaiter(waiterID)
        }
    }

    /// Called by a connection when its channel closed (idle or leased).
    func connectionClosed(_ connection: UpstreamConnection) {
        guard connections[connection.id] === connection else { return }
        if state.idleConnectionClosed(connection.id) {
            connections[connection.id] = nil
        }
        // A leased connection is accounted for when its exchange releases it.
    }

    /// Closes idle connections and refuses new leases; leased ones close as their exchanges end.
    func shutdown() {
        isShutDown = true
        sweepTimer?.cancel()
        sweepTimer = nil
        for id in state.takeAllIdle() {
            connections.removeValue(forKey: id)?.close()
        }
        for id in state.takeAllWaiters() {
            if let waiter = waiters.removeValue(forKey: id) {
                waiter.timer?.cancel()
                waiter.requester.leaseFailed(.closed)
            }
        }
    }

    // MARK: private

    private func makeID() -> Int {
        nextID &+= 1
        return nextID
    }

    /// Parks a connection as idle. One sweep timer per pool closes connections idle past
    /// `idleTimeout`, so parking and leasing schedule nothing per request.
    private func park(_ connection: UpstreamConnection) {
        let now = clock.now()
        connection.idleSince = now
        if sweepTimer == nil { scheduleSweep(at: now + idleTimeout) }
    }

    private func scheduleSweep(at deadline: NIODeadline) {
        sweepTimer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in  // strong: see UpstreamConnection.pool
            self.sweepTimer = nil
            self.sweepIdleConnections()
        }
    }

    private func sweepIdleConnections() {
        let now = NIODeadline.now()
        var next: NIODeadline?
        for id in state.idle {
            guard let connection = connections[id] else { continue }
            let expires = connection.idleSince + idleTimeout
            if expires <= now {
                state.idleConnectionClosed(id)
                connections[id] = nil
                connection.close()
            } else if next == nil || expires < next! {
                next = expires
            }
        }
        if let next { scheduleSweep(at: next) }
    }

    private func waiterTimedOut(_ waiterID: Int) {
        guard let waiter = waiters.removeValue(forKey: waiterID) else { return }
        state.cancelWaiter(waiterID)
        waiter.requester.leaseFailed(.exhausted)
    }

    private func connectForWaiter(_ waiterID: Int) {
        guard let waiter = waiters.removeValue(forKey: waiterID) else {
            _ = state.connectFailed()  // nobody to connect for any more: give the slot back
            return
        }
        waiter.timer?.cancel()
        connect(for: waiter.requester)
    }

    private func connect(for requester: any PoolLeaseRequester) {
        let id = makeID()
        let connection = UpstreamConnection(id: id)
        connection.pool = self
        let boundConnection = NIOLoopBound(connection, eventLoop: eventLoop)
        let boundClock = NIOLoopBound(clock, eventLoop: eventLoop)
        var tls: (context: NIOSSLContext, serverHostname: String?, handshake: EventLoopPromise<Void>)?
        if endpoint.scheme == "https" {
            do {
                tls = (try tlsContext(), tlsServerHostname, eventLoop.makePromise(of: Void.self))
            } catch {
                connection.pool = nil
                if let waiterID = state.connectFailed() { connectForWaiter(waiterID) }
                requester.leaseFailed(.connect(error))
                return
            }
        }
        let handshakeTimeout = connectTimeout
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: SocketReads.upstream)
            .channelOption(.maxMessagesPerRead, value: SocketReads.perEvent)
            .channelInitializer { [tls] channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        try sync.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverHostname))
                        try sync.addHandler(UpstreamTLSHandshakeHandler(promise: tls.handshake, timeout: handshakeTimeout))
                    }
                    // Bytes after a 101 are the upgraded protocol's: passed on when the decoder is removed.
                    let connection = boundConnection.value
                    let encoder = UpstreamRequestEncoder(sendsItself: tls == nil)
                    let decoder = HTTP1Decoder(.response, maxHeadBytes: Self.maxResponseHeadBytes, sink: connection, clock: boundClock.value)
                    try sync.addHandler(encoder)
                    try sync.addHandler(decoder)
                    connection.requestEncoder = encoder
                    connection.responseDecoder = decoder
                    try sync.addHandler(connection)
                }
            }
        var connected = bootstrap.connect(host: endpoint.host, port: endpoint.port)
        if let handshake = tls?.handshake {
            // An https connection is usable once the handshake is done; a failed handshake (wrong CA,
            // wrong name) is a connect failure: nothing was sent.
            connected.whenFailure { handshake.fail($0) }
            connected = connected.flatMap { channel in
                handshake.futureResult.map { channel }.flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
            }
        }
        connected.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success:
                state.connectSucceeded()
                connections[id] = connection
                requester.leaseSucceeded(connection)
            case .failure(let error):
                connection.pool = nil
                if let waiterID = state.connectFailed() { connectForWaiter(waiterID) }
                requester.leaseFailed(.connect(error))
            }
        }
    }
}

extension UpstreamPool {
    /// The pool's client TLS context: trust roots from `caFile` (or the system's), verification as configured.
    private func tlsContext() throws -> NIOSSLContext {
        if let sslContext { return sslContext }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = ["http/1.1"]
        if let caFile = upstreamTLSSetting.caFile {
            configuration.trustRoots = .file(caFile)
        }
        if !upstreamTLSSetting.verify {
            configuration.certificateVerification = .none
        }
        let context = try NIOSSLContext(configuration: configuration)
        sslContext = context
        return context
    }

    /// The SNI name and the name the certificate must carry; `nil` for an IP literal, which SNI cannot
    /// carry (the certificate is then checked against the peer's IP address).
    private var tlsServerHostname: String? {
        let name = upstreamTLSSetting.serverName ?? endpoint.host
        return Self.isIPLiteral(name) ? nil : name
    }

    static func isIPLiteral(_ name: String) -> Bool {
        if name.contains(":") { return true }
        return !name.isEmpty && name.utf8.allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") }
    }
}

/// Completes `promise` when the upstream TLS handshake is done (then leaves the pipeline), or fails it
/// when the handshake fails, the connection closes first, or `timeout` passes.
final class UpstreamTLSHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var done = false

    init(promise: EventLoopPromise<Void>, timeout: TimeAmount) {
        self.promise = promise
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, !self.done else { return }
            self.finish(.failure(UpstreamTLSHandshakeTimeout()))
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.ioOnClosedChannel))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            finish(.success(()))
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !done else { return }
        done = true
        timer?.cancel()
        timer = nil
        promise.completeWith(result)
    }
}

/// The upstream TLS handshake took longer than the connect timeout.
struct UpstreamTLSHandshakeTimeout: Error, CustomStringConvertible {
    var description: String { "TLS handshake timed out" }
}

extension TimeAmount {
    /// Converts a Swift `Duration` (as the configuration holds it) to NIO's `TimeAmount`.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
