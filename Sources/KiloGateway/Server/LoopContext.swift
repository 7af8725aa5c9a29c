import GatewayConfiguration
import Logging
import NIOCore

/// Everything the request path needs on one event loop, touched only from that loop.
///
/// One per event loop, so pools, counters and the id generator need no locks; the server
/// reaches it from other threads only by submitting work to its loop.
final class LoopContext {
    let eventLoop: any EventLoop
    let logger: Logger
    let accessLog: AccessLog?
    /// How many event loops share the configured pool limits.
    let loopCount: Int
    private(set) var routes: RouteTable
    /// Per service (same order as `routes.services`): config, shared state, this loop's counters.
    private(set) var services: [ServiceRuntime]
    let upstreamStates: UpstreamStates
    /// This loop's cached metric handles.
    let metrics: LoopMetrics
    /// The time while a read is handled, read once (see ``LoopClock``).
    let clock = LoopClock()
    var requestIDs = RequestIDGenerator()
    var jitter = RequestIDGenerator()
    private var pools: [UpstreamEndpoint: UpstreamPool] = [:]
    private(set) var clients: [ObjectIdentifier: ClientConnectionHandler] = [:]
    /// Upgraded connections (WebSockets) relayed on this loop.
    private var tunnels: [ObjectIdentifier: Tunnel] = [:]
    /// Client-facing limits and header policies.
    var edge: EdgeSettings

    func track(_ tunnel: Tunnel) {
        tunnels[ObjectIdentifier(tunnel)] = tunnel
        // Strong: the loop outlives its tunnels, and a weak reference would give it a side table
        // (every later retain of it the runtime's slow kind).
        tunnel.onRemove = { [self] ended in self.untrack(ended) }
    }

    func untrack(_ tunnel: Tunnel) {
        tunnels[ObjectIdentifier(tunnel)] = nil
    }

    /// Requests between head received and response finished.
    var activeRequests = 0
    /// Set when the server drains: keep-alive ends after the current response.
    var draining = false

    init(
        eventLoop: any EventLoop, routes: RouteTable, states: UpstreamStates, metrics: GatewayMetrics, edge: EdgeSettings,
        loopCount: Int, logger: Logger, accessLog: AccessLog?
    ) {
        self.eventLoop = eventLoop
        self.edge = edge
        self.routes = routes
        self.metrics = LoopMetrics(metrics: metrics, serviceNames: routes.services.map(\.name))
        self.upstreamStates = states
        self.services = Self.runtimes(for: routes, states: states)
        self.loopCount = loopCount
        self.logger = logger
        self.accessLog = accessLog
    }

    /// The pool for an endpoint, created on first use with the service's settings.
    func pool(for endpoint: UpstreamEndpoint, settings: ServiceSettings) -> UpstreamPool {
        if let pool = pools[endpoint] { return pool }
        let pool = UpstreamPool(
            endpoint: endpoint, eventLoop: eventLoop, pool: settings.pool,
            connectTimeout: settings.timeouts.connect, shareOfLimit: loopCount, upstreamTLS: settings.upstreamTLS, clock: clock)
        pools[endpoint] = pool
        return pool
    }

    /// Switches to a new routing snapshot. Pools whose endpoint is gone, or whose service's
    /// pool settings changed, stop taking leases: idle connections close now, leased ones when
    /// their exchange ends; exchanges in flight keep the snapshot they started with.
    func apply(_ newRoutes: RouteTable, edge newEdge: EdgeSettings) {
        routes = newRoutes
        edge = newEdge
        services = Self.runtimes(for: newRoutes, states: upstreamStates)
        metrics.update(serviceNames: newRoutes.services.map(\.name))
        var wanted: [UpstreamEndpoint: ServiceSettings] = [:]
        for service in newRoutes.services {
            for url in service.endpoints { wanted[UpstreamEndpoint(url)] = service.settings }
        }
        for (endpoint, pool) in pools {
            if let settings = wanted[endpoint], settings.pool == pool.poolSettings, settings.timeouts.connect == pool.connectTimeoutSetting,
                settings.upstreamTLS == pool.upstreamTLSSetting
            {
                continue
            }
            pool.shutdown()
            pools[endpoint] = nil
        }
    }

    private static func runtimes(for routes: RouteTable, states: UpstreamStates) -> [ServiceRuntime] {
        let shared = states.snapshot()
        return routes.services.enumerated().map { index, config in
            ServiceRuntime(index: index, config: config, shared: shared[config.name]?.state ?? ServiceState(config: config))
        }
    }

    /// A number in `0..<upperBound` for balancing.
    func random(_ upperBound: Int) -> Int {
        Int(jitter.nextWord() % UInt64(upperBound))
    }

    /// A number in 0..<1 for retry jitter.
    func nextJitter() -> Double {
        Double(UInt64(jitter.nextWord() >> 11)) / Double(1 << 53)
    }

    func register(_ client: ClientConnectionHandler) {
        clients[ObjectIdentifier(client)] = client
    }

    func unregister(_ client: ClientConnectionHandler) {
        clients[ObjectIdentifier(client)] = nil
    }

    /// Starts draining: idle client connections close now, busy ones after their response.
    func beginDrain() {
        draining = true
        for client in clients.values { client.closeIfIdle() }
    }

    /// Closes every client connection and upstream pool (end of drain).
    func closeEverything() {
        for tunnel in tunnels.values { tunnel.end(reason: "gateway shutting down") }
        for client in clients.values { client.closeNow() }
        for pool in pools.values { pool.shutdown() }
    }

}
