import GatewayConfiguration
import NIOCore

/// One service as an event loop sees it: its configuration, the state shared with the other
/// loops, and this loop's own balancing counters (no atomics needed for those).
final class ServiceRuntime {
    let index: Int
    let config: ServiceConfig
    /// `config.settings`, stored: read on every request, and a computed copy retains each
    /// reference it holds.
    let settings: ServiceSettings
    /// Each endpoint's scheme, host and port (the key of its pools).
    let endpoints: [UpstreamEndpoint]
    let shared: ServiceState
    let outliers: OutlierPolicy
    /// Each endpoint's `host:port`, as sent in `Host` (built once, not per request).
    let authorities: [String]
    /// `slowThreshold` in nanoseconds, compared with every request's duration.
    let slowThresholdNanoseconds: Int64
    /// `timeouts.response` and `timeouts.idle`, converted once (every request computes its deadlines).
    let responseTimeout: TimeAmount
    let idleTimeout: TimeAmount
    /// Requests in flight from this loop, per endpoint (for leastRequest).
    var active: [Int]
    var cursor = 0
    /// This loop's pool for each endpoint, once looked up (the loop's table is keyed by endpoint,
    /// and hashing one costs more than the rest of a lease).
    private var pools: [UpstreamPool?]

    init(index: Int, config: ServiceConfig, shared: ServiceState) {
        self.index = index
        self.config = config
        self.settings = config.settings
        self.endpoints = config.endpoints.map(UpstreamEndpoint.init)
        self.shared = shared
        self.outliers = OutlierPolicy(settings: config.settings.outlierDetection)
        self.authorities = config.endpoints.map(\.authority)
        self.slowThresholdNanoseconds = TimeAmount(config.settings.slowThreshold).nanoseconds
        self.responseTimeout = TimeAmount(config.settings.timeouts.response)
        self.idleTimeout = TimeAmount(config.settings.timeouts.idle)
        self.active = Array(repeating: 0, count: config.endpoints.count)
        self.pools = Array(repeating: nil, count: config.endpoints.count)
    }

    /// The loop's pool for endpoint `index`; looked up again once it was shut down (by a reload).
    func pool(_ index: Int, in loop: LoopContext) -> UpstreamPool {
        if let pool = pools[index], !pool.isShutDown { return pool }
        let pool = loop.pool(for: endpoints[index], settings: settings)
        pools[index] = pool
        return pool
    }

    /// Picks an endpoint for an attempt, or `nil` when none is usable.
    /// - Parameter now: read only when an endpoint was ejected.
    func pickEndpoint(avoid: Int?, now: @autoclosure () -> NIODeadline, random: (Int) -> Int) -> Int? {
        let endpoints = shared.endpoints
        if endpoints.count == 1 {
            return endpoints[0].isUsable(now: now()) ? 0 : nil
        }
        let usable = endpoints.map { $0.isUsable(now: now()) }
        return EndpointSelector.pick(
            policy: settings.balancing, usable: usable, active: active, avoid: avoid, cursor: &cursor, random: random)
    }

    /// Whether another endpoint than `index` could take a request now.
    func hasUsableEndpoint(besides index: Int, now: NIODeadline) -> Bool {
        shared.endpoints.contains { $0.index != index && $0.isUsable(now: now) }
    }

    /// Records how an attempt on an endpoint went; returns the ejection time when it got ejected.
    /// - Parameter now: read only for a failure.
    func recordOutcome(endpoint index: Int, failed: Bool, reason: String?, now clock: @autoclosure () -> NIODeadline) -> Duration? {
        let endpoint = shared.endpoints[index]
        guard failed else {
            if endpoint.consecutiveFailures.load(ordering: .relaxed) != 0 {
                endpoint.consecutiveFailures.store(0, ordering: .relaxed)
            }
            return nil
        }
        let now = clock()
        if let reason { endpoint.recordError(reason, at: now) }
        let failures = endpoint.consecutiveFailures.wrappingIncrementThenLoad(ordering: .relaxed)
        let ejectedNow = shared.endpoints.filter { $0.isEjected(now: now) }.count
        guard !endpoint.isEjected(now: now),
            outliers.shouldEject(consecutiveFailures: failures, ejectedNow: ejectedNow, endpoints: shared.endpoints.count)
        else { return nil }
        let count = endpoint.ejections.wrappingIncrementThenLoad(ordering: .relaxed)
        let time = outliers.ejectionTime(count: count)
        endpoint.ejectedUntil.store(now.uptimeNanoseconds &+ UInt64(TimeAmount(time).nanoseconds), ordering: .relaxed)
        endpoint.consecutiveFailures.store(0, ordering: .relaxed)
        return time
    }
}
