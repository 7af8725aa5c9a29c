import NIOHTTP1
import Prometheus

/// The metrics of one event loop: caches of the shared metric objects, keyed by small integers,
/// so the request path neither takes a lock nor builds a string.
///
/// Not Sendable: create it, use it and `update(serviceNames:)` it on its event loop only.
/// Service `i` is `serviceNames[i]`; `nil` or an index out of range records under `unknown`.
/// Each call is an array lookup plus one relaxed atomic operation (a compare-exchange loop for
/// gauges); the first use of a label combination creates it through the registry (lock).
/// Counters and gauges are shared with other loops (the registry hands out one object per name
/// and labels), so in-flight counts sum across loops.
public final class LoopMetrics {
    /// The process-wide metrics these caches draw from.
    public let gateway: GatewayMetrics
    /// Per configured service in order, then one for `unknown`.
    private var services: [ServiceMetrics]

    /// Caches for `serviceNames` (index = service index) plus `unknown`.
    public init(metrics: GatewayMetrics, serviceNames: [String]) {
        self.gateway = metrics
        self.services = []
        update(serviceNames: serviceNames)
    }

    /// Re-indexes after a reload; services whose name stays keep their caches and counters.
    public func update(serviceNames: [String]) {
        var previous = [String: ServiceMetrics]()
        for service in services where !service.isUnknown {
            previous[service.name] = service
        }
        let unknown = services.last.flatMap { $0.isUnknown ? $0 : nil }
            ?? ServiceMetrics(metrics: gateway, name: GatewayMetrics.unknownService, isUnknown: true)
        var updated = [ServiceMetrics]()
        updated.reserveCapacity(serviceNames.count + 1)
        for name in serviceNames {
            if let existing = previous[name] {
                updated.append(existing)
            } else {
                let created = ServiceMetrics(metrics: gateway, name: name, isUnknown: false)
                previous[name] = created
                updated.append(created)
            }
        }
        updated.append(unknown)
        services = updated
    }

    /// Number of configured services (the `unknown` slot excluded).
    public var serviceCount: Int { services.count - 1 }

    /// Index of the configured service named `name` (a linear search: not for the request path).
    public func serviceIndex(named name: String) -> Int? {
        services.dropLast().firstIndex { $0.name == name }
    }

    /// The caches of service `index` (`unknown` for nil or out of range); a request may keep it
    /// across a reload so that its in-flight +1 and −1 land on the same series.
    public func service(_ index: Int?) -> ServiceMetrics {
        guard let index, index >= 0, index < services.count - 1 else {
            return services[services.count - 1]
        }
        return services[index]
    }

    /// Counts one answered request and records its duration.
    public func recordRequest(service index: Int?, method: HTTPMethod, status: Int, duration: Duration) {
        service(index).recordRequest(method: method, status: status, nanoseconds: duration.nanosecondsForMetrics)
    }

    /// Counts one answered request and records its duration given in nanoseconds (cheaper than `Duration`).
    public func recordRequest(service index: Int?, method: HTTPMethod, status: Int, nanoseconds: Int64) {
        service(index).recordRequest(method: method, status: status, nanoseconds: nanoseconds)
    }

    /// Counts one upstream attempt by how it ended.
    public func recordAttempt(service index: Int, outcome: AttemptOutcome) {
        service(index).recordAttempt(outcome)
    }

    /// Counts one retry by its reason.
    public func recordRetry(service index: Int, reason: RetryReason) {
        service(index).recordRetry(reason)
    }

    /// Counts one request refused before reaching an upstream.
    public func recordAdmissionRejection(service index: Int?, reason: AdmissionRejectionReason) {
        service(index).recordAdmissionRejection(reason)
    }

    /// Adds `delta` (+1 at request start, −1 at its end) to the service's in-flight gauge.
    public func adjustInFlight(service index: Int?, by delta: Int) {
        service(index).adjustInFlight(by: delta)
    }

    /// Adds `delta` to the service's open upstream connections gauge.
    public func adjustUpstreamConnections(service index: Int, by delta: Int) {
        service(index).adjustUpstreamConnections(by: delta)
    }
}

/// The cached metric objects of one service on one event loop (not Sendable, like `LoopMetrics`).
public final class ServiceMetrics {
    /// The `service` label value.
    public let name: String
    let isUnknown: Bool
    private let gateway: GatewayMetrics
    private let latency: LatencyHistogram
    private let inFlight: Gauge
    private var connections: Gauge?
    private var attempts: [Counter?]
    private var retries: [Counter?]
    private var rejections: [Counter?]
    /// Per normalized status: its slot + 1 in `requests`, or 0 while unseen.
    private var statusSlots: [UInt16]
    /// `MethodLabel.count` counters per status slot, in order of first appearance.
    private var requests: [Counter?] = []

    init(metrics: GatewayMetrics, name: String, isUnknown: Bool) {
        self.gateway = metrics
        self.name = name
        self.isUnknown = isUnknown
        self.latency = metrics.latencyHistogram(service: name)
        self.inFlight = metrics.inFlightGauge(service: name)
        self.attempts = Array(repeating: nil, count: AttemptOutcome.allCases.count)
        self.retries = Array(repeating: nil, count: RetryReason.allCases.count)
        self.rejections = Array(repeating: nil, count: AdmissionRejectionReason.allCases.count)
        self.statusSlots = Array(repeating: 0, count: StatusLabel.tableSize)
        guard !isUnknown else { return }
        // Configured services start with every bounded counter at 0, so `rate()` sees the first event.
        for outcome in AttemptOutcome.allCases {
            attempts[outcome.ordinal] = metrics.attemptCounter(service: name, outcome: outcome)
        }
        for reason in RetryReason.allCases {
            retries[reason.ordinal] = metrics.retryCounter(service: name, reason: reason)
        }
        for reason in AdmissionRejectionReason.allCases {
            rejections[reason.ordinal] = metrics.admissionRejectionCounter(service: name, reason: reason)
        }
    }

    /// Counts one answered request and records its duration in nanoseconds.
    public func recordRequest(method: HTTPMethod, status: Int, nanoseconds: Int64) {
        requestCounter(method: MethodLabel(method), status: status).increment()
        latency.record(nanoseconds: nanoseconds)
    }

    /// Counts one upstream attempt by how it ended.
    public func recordAttempt(_ outcome: AttemptOutcome) {
        Self.increment(&attempts, at: outcome.ordinal) { gateway.attemptCounter(service: name, outcome: outcome) }
    }

    /// Counts one retry by its reason.
    public func recordRetry(_ reason: RetryReason) {
        Self.increment(&retries, at: reason.ordinal) { gateway.retryCounter(service: name, reason: reason) }
    }

    /// Counts one request refused before reaching an upstream.
    public func recordAdmissionRejection(_ reason: AdmissionRejectionReason) {
        Self.increment(&rejections, at: reason.ordinal) { gateway.admissionRejectionCounter(service: name, reason: reason) }
    }

    /// Increments the counter cached at `index`, making it first when it is not there yet
    /// (a service that is not configured registers its counters lazily).
    private static func increment(_ cache: inout [Counter?], at index: Int, make: () -> Counter) {
        if let counter = cache[index] {
            counter.increment()
        } else {
            let counter = make()
            cache[index] = counter
            counter.increment()
        }
    }

    /// Adds `delta` to the in-flight gauge shared by every loop.
    public func adjustInFlight(by delta: Int) {
        inFlight.increment(by: Double(delta))
    }

    /// Adds `delta` to the open upstream connections gauge shared by every loop.
    public func adjustUpstreamConnections(by delta: Int) {
        if let connections {
            connections.increment(by: Double(delta))
        } else {
            let gauge = gateway.upstreamConnectionsGauge(service: name)
            connections = gauge
            gauge.increment(by: Double(delta))
        }
    }

    private func requestCounter(method: MethodLabel, status: Int) -> Counter {
        let code = StatusLabel.normalize(status)
        var slot = Int(statusSlots[code])
        if slot == 0 {
            slot = requests.count / MethodLabel.count + 1
            statusSlots[code] = UInt16(slot)
            requests.append(contentsOf: repeatElement(nil, count: MethodLabel.count))
        }
        let index = (slot - 1) * MethodLabel.count + method.rawValue
        if let counter = requests[index] { return counter }
        let counter = gateway.requestCounter(service: name, method: method, code: code)
        requests[index] = counter
        return counter
    }
}
