import GatewayConfiguration
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The gateway: a listener, one ``LoopContext`` per event loop, and a graceful drain.
///
/// Use it directly (`start()`, `shutdown()`) in tests, or run it as a swift-service-lifecycle
/// `Service`, which drains on SIGTERM/SIGINT.
public final class GatewayServer: Sendable {

    private var config: GatewayConfig { state.withLockedValue { $0.config } }
    private let logger: Logger
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let afterStart: @Sendable () -> Void
    private let loops: LoopContexts
    /// Every service's shared endpoint state (health, ejection, admission counters).
    public let upstreamStates: UpstreamStates
    /// The Prometheus registry behind `/metrics`.
    public let metrics: GatewayMetrics
    private let state: NIOLockedValueBox<State>

    private struct State {
        var config: GatewayConfig
        var channel: (any Channel)?
        /// The TLS listener, when `tls` is configured.
        var secure: SecureListener?
        var healthChecks: Task<Void, Never>?
        var shutdownStarted = false
    }

    /// Creates a server; nothing listens until `start()`.
    /// - Parameters:
    ///   - eventLoopGroup: a group to run on; by default one is created with `config.workers` threads
    ///     (one per core when unset) and shut down with the server.
    ///   - accessLog: where access-log lines go; `nil` turns them off regardless of `config.accessLog`.
    ///   - afterStart: called by `run()` once the listeners are bound.
    public init(
        config: GatewayConfig,
        logger: Logger,
        accessLog: AccessLog? = AccessLog.standardOutput,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        afterStart: @escaping @Sendable () -> Void = {}
    ) {
        self.afterStart = afterStart
        self.state = NIOLockedValueBox(State(config: config))
        self.logger = logger
        if let eventLoopGroup {
            self.group = eventLoopGroup
            self.ownsGroup = false
        } else {
            self.group = MultiThreadedEventLoopGroup(numberOfThreads: config.workers ?? System.coreCount)
            self.ownsGroup = true
        }
        let routes = RouteTable(config: config)
        let states = UpstreamStates(config: config)
        self.upstreamStates = states
        let metrics = GatewayMetrics()
        self.metrics = metrics
        let eventLoops = Array(group.makeIterator())
        var contexts: [ObjectIdentifier: LoopContext] = [:]
        for loop in eventLoops {
            contexts[ObjectIdentifier(loop)] = LoopContext(
                eventLoop: loop, routes: routes, states: states, metrics: metrics,
                edge: EdgeSettings(config: config, loopCount: eventLoops.count), loopCount: eventLoops.count, logger: logger,
                accessLog: config.accessLog ? accessLog : nil)
        }
        self.loops = LoopContexts(byLoop: contexts)
    }

    /// The bound address once started (with the real port when the config said port 0).
    public var localAddress: SocketAddress? {
        state.withLockedValue { $0.channel?.localAddress }
    }

    /// The TLS listener's bound address, when `tls` is configured.
    public var tlsLocalAddress: SocketAddress? {
        state.withLockedValue { $0.secure?.channel.localAddress }
    }

    /// Binds the listeners: the TLS one when `tls` is set, the plain one unless `plainHTTP` is `off`
    /// (with `redirect` it answers 308 to the TLS listener, probes excepted).
    public func start() async throws {
        let loops = self.loops
        let config = self.config
        var secure: SecureListener?
        if let tls = config.tls {
            let listener = try await SecureListener.start(tls, group: group, loops: loops, logger: logger)
            secure = listener
            state.withLockedValue { $0.secure = listener }
        }
        let redirectPort: Int? = config.tls != nil && config.plainHTTP == .redirect ? secure?.port : nil
        let bootstrap = ListenerBootstrap.make(group: group, loops: loops) { channel, loop in
            if let redirectPort {
                try HTTPSRedirectHandler.configure(channel, loop: loop, httpsPort: redirectPort)
            } else {
                try ClientPipeline.configureHTTP1(channel, loop: loop, scheme: "http")
            }
        }
        var channel: (any Channel)?
        if config.tls == nil || config.plainHTTP != .off {
            do {
                channel = try await ListenError.bind(bootstrap, config.listen, key: "listen")
            } catch {
                await secure?.beginDrain()
                throw error
            }
        }
        let metrics = self.metrics
        publishEndpointHealth()
        let checker = HealthChecker(
            states: upstreamStates, group: group, logger: logger,
            onChange: { endpoint, healthy in
                metrics.setEndpointHealthy(service: endpoint.service, endpoint: endpoint.url.description, healthy: healthy)
            })
        let healthChecks = Task { _ = try? await checker.run() }
        state.withLockedValue {
            $0.channel = channel
            $0.healthChecks = healthChecks
        }
        logger.info(
            "kilo-gateway listening",
            metadata: [
                "address": "\(channel?.localAddress.map { "\($0)" } ?? "off")", "services": "\(config.services.count)",
            ])
    }

    /// Stops accepting, lets in-flight requests finish for up to `drainTimeout`, then closes
    /// every connection and upstream pool.
    public func shutdown(drainTimeout: Duration? = nil) async {
        let (channel, secure, alreadyStarted) = state.withLockedValue { state -> ((any Channel)?, SecureListener?, Bool) in
            defer { state.shutdownStarted = true }
            return (state.channel, state.secure, state.shutdownStarted)
        }
        guard !alreadyStarted else { return }
        state.withLockedValue { $0.healthChecks?.cancel() }
        let timeout = drainTimeout ?? config.drainTimeout
        try? await channel?.close()
        await secure?.beginDrain()
        await loops.forEach { $0.beginDrain() }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let active = await loops.sum { $0.activeRequests }
            if active == 0 { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let remaining = await loops.sum { $0.activeRequests }
        if remaining > 0 {
            logger.warning("drain timeout reached; closing in-flight requests", metadata: ["requests": "\(remaining)"])
        }
        await loops.forEach { $0.closeEverything() }
        secure?.closeEverything()
        if ownsGroup { try? await group.shutdownGracefully() }
        logger.info("kilo-gateway stopped")
    }

    /// Applies a new configuration without dropping a request: new requests route with it,
    /// requests in flight finish with the one they started with. `listen`, `workers` and
    /// `accessLog` need a restart; a change to them is logged and otherwise ignored.
    public func apply(_ newConfig: GatewayConfig) async {
        let old = config
        var restartOnly: [String] = []
        if newConfig.listen != old.listen { restartOnly.append("listen") }
        if newConfig.workers != old.workers { restartOnly.append("workers") }
        if newConfig.accessLog != old.accessLog { restartOnly.append("accessLog") }
        if newConfig.tls != old.tls { restartOnly.append("tls") }
        if newConfig.plainHTTP != old.plainHTTP { restartOnly.append("plainHTTP") }
        if !restartOnly.isEmpty {
            logger.warning(
                "configuration keys changed that apply only after a restart",
                metadata: ["keys": "\(restartOnly.joined(separator: ", "))"])
        }
        state.withLockedValue { $0.config = newConfig }
        upstreamStates.update(newConfig)
        publishEndpointHealth()
        let routes = RouteTable(config: newConfig)
        await loops.forEach { $0.apply(routes, edge: EdgeSettings(config: newConfig, loopCount: $0.loopCount)) }
        logger.info(
            "configuration applied",
            metadata: ["services": "\(newConfig.services.count)", "aliases": "\(newConfig.aliases.count)"])
    }

    /// Sets the health gauge of every endpoint (all start healthy; the checker flips them).
    private func publishEndpointHealth() {
        for entry in upstreamStates.snapshot().values {
            for endpoint in entry.state.endpoints {
                metrics.setEndpointHealthy(service: endpoint.service, endpoint: endpoint.url.description, healthy: endpoint.isHealthy)
            }
        }
    }

    /// Requests in flight across all event loops (for tests and the drain).
    public func activeRequestCount() async -> Int {
        await loops.sum { $0.activeRequests }
    }

}

extension GatewayServer: Service {
    /// Serves until graceful shutdown is requested (SIGTERM/SIGINT through the service group), then drains.
    public func run() async throws {
        try await start()
        afterStart()
        try? await gracefulShutdown()
        await shutdown()
    }
}

/// The per-loop contexts. Each context is only ever touched on its own event loop: other
/// threads reach it by submitting work there, which is what makes the `@unchecked` true.
final class LoopContexts: @unchecked Sendable {
    private let byLoop: [ObjectIdentifier: LoopContext]

    init(byLoop: [ObjectIdentifier: LoopContext]) {
        self.byLoop = byLoop
    }

    /// The context of the loop the caller runs on.
    func context(for eventLoop: any EventLoop) -> LoopContext? {
        byLoop[ObjectIdentifier(eventLoop)]
    }

    func forEach(_ body: @escaping @Sendable (LoopContext) -> Void) async {
        for context in byLoop.values {
            let box = UnsafeTransfer(context)
            try? await context.eventLoop.submit { body(box.value) }.get()
        }
    }

    func sum(_ body: @escaping @Sendable (LoopContext) -> Int) async -> Int {
        var total = 0
        for context in byLoop.values {
            let box = UnsafeTransfer(context)
            total += (try? await context.eventLoop.submit { body(box.value) }.get()) ?? 0
        }
        return total
    }
}

/// Carries a loop-confined object to its own loop inside a `@Sendable` closure.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
