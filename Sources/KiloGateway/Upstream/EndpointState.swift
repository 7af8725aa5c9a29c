import Atomics
import GatewayConfiguration
import NIOConcurrencyHelpers
import NIOCore

/// What the gateway knows about one endpoint of one service, shared by every event loop,
/// the health checker and the status page.
///
/// The request path only reads it with relaxed atomic loads (is it usable?) and writes it on
/// outcomes; the rarely changing details (last error, last check) sit behind a lock that the
/// request path takes only when something failed.
public final class EndpointState: Sendable {
    /// The service this endpoint belongs to.
    public let service: String
    /// The endpoint's URL.
    public let url: UpstreamURL
    /// Position among the service's endpoints.
    public let index: Int

    /// Active health: false after `unhealthyThreshold` failed checks, true again after `healthyThreshold`.
    let activeHealthy = ManagedAtomic<Bool>(true)
    /// Uptime nanoseconds until which the endpoint is ejected; 0 when it is not.
    let ejectedUntil = ManagedAtomic<UInt64>(0)
    /// Consecutive failures seen by the request path (reset by a success).
    let consecutiveFailures = ManagedAtomic<Int>(0)
    /// How often this endpoint was ejected (ejection time grows with it).
    let ejections = ManagedAtomic<Int>(0)
    private let details = NIOLockedValueBox(Details())

    /// Facts for the status page.
    public struct Details: Sendable {
        /// The last failure seen on this endpoint (request path or health check).
        public var lastError: String?
        /// When `lastError` happened.
        public var lastErrorAt: NIODeadline?
        /// When the last active health check finished.
        public var lastCheckAt: NIODeadline?
        /// Whether the last active health check passed.
        public var lastCheckOK: Bool?
        /// Health checks passed in a row.
        public var consecutiveCheckSuccesses = 0
        /// Health checks failed in a row.
        public var consecutiveCheckFailures = 0
    }

    init(service: String, url: UpstreamURL, index: Int) {
        self.service = service
        self.url = url
        self.index = index
    }

    /// Whether new requests may go here now: healthy by its checks and not ejected.
    /// - Parameter now: read only when the endpoint was ejected (a clock read costs about 30 ns).
    public func isUsable(now: @autoclosure () -> NIODeadline) -> Bool {
        guard activeHealthy.load(ordering: .relaxed) else { return false }
        let until = ejectedUntil.load(ordering: .relaxed)
        return until == 0 || now().uptimeNanoseconds >= until
    }

    /// Whether passive outlier detection has it out of rotation now.
    public func isEjected(now: NIODeadline) -> Bool {
        let until = ejectedUntil.load(ordering: .relaxed)
        return until != 0 && now.uptimeNanoseconds < until
    }

    /// Whether active health checks consider it healthy (true when it has none).
    public var isHealthy: Bool { activeHealthy.load(ordering: .relaxed) }
    /// How often passive outlier detection ejected it.
    public var ejectionCount: Int { ejections.load(ordering: .relaxed) }
    /// A copy of the details for the status page.
    public var snapshot: Details { details.withLockedValue { $0 } }

    func recordError(_ message: String, at now: NIODeadline) {
        details.withLockedValue {
            $0.lastError = message
            $0.lastErrorAt = now
        }
    }

    func updateDetails<T>(_ body: (inout Details) -> T) -> T {
        details.withLockedValue(body)
    }
}

/// The endpoints of one service and its shared admission counters.
public final class ServiceState: Sendable {
    /// The service's name.
    public let name: String
    /// Its endpoints, in configuration order.
    public let endpoints: [EndpointState]
    /// Requests admitted and not finished, across event loops (`limits.maxConcurrentRequests`).
    let inFlight = ManagedAtomic<Int>(0)
    /// Requests waiting for an upstream connection (connecting or queued), across event loops.
    let pending = ManagedAtomic<Int>(0)
    /// Requests currently retrying (`retries.budget`).
    let retriesInFlight = ManagedAtomic<Int>(0)

    /// - Parameter previous: endpoints of the same service before a reload; one with the same URL keeps its state.
    init(config: ServiceConfig, reusing previous: [EndpointState] = []) {
        self.name = config.name
        self.endpoints = config.endpoints.enumerated().map { index, url in
            if let kept = previous.first(where: { $0.url == url && $0.index == index }) { return kept }
            return EndpointState(service: config.name, url: url, index: index)
        }
    }
}
