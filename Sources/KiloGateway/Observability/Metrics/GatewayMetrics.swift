import NIOConcurrencyHelpers
import Prometheus

/// The gateway's Prometheus metrics: one per process, shared by every event loop.
///
/// The request path records through a per-event-loop `LoopMetrics`, which caches the metric
/// objects created here; the methods of this class take the registry's lock and build label
/// strings, so they are meant for rare events (health changes, ejections, reloads) and for
/// populating those caches. Cost per call of the cached objects (swift-prometheus 2.4.1):
/// - `Counter.increment()`: one relaxed atomic add (`lock xadd`) on a `ManagedAtomic<Int64>`, no lock.
/// - `Gauge.increment(by:)`/`decrement(by:)`: a relaxed load + compare-exchange loop on the
///   `Double` bit pattern, no lock (retries only when another thread changed it in between).
/// - `Gauge.set(to:)`: one relaxed atomic store.
/// - `DurationHistogram.record`: takes a mutex (`NIOLockedValueBox`) and walks all buckets, so it
///   is not used; `kilo_gateway_request_duration_seconds` is a `LatencyHistogram` (two relaxed
///   atomic adds) appended to the registry's output by `render()`.
/// - `PrometheusCollectorRegistry.make…`: validates name and labels, hashes the label set and
///   takes the registry lock; it returns the existing object for the same name and labels.
public final class GatewayMetrics: Sendable {
    /// Metric family names.
    enum Name {
        static let requests = "kilo_gateway_requests_total"
        static let requestDuration = "kilo_gateway_request_duration_seconds"
        static let upstreamAttempts = "kilo_gateway_upstream_attempts_total"
        static let upstreamRetries = "kilo_gateway_upstream_retries_total"
        static let endpointHealthy = "kilo_gateway_upstream_endpoint_healthy"
        static let ejections = "kilo_gateway_upstream_ejections_total"
        static let admissionRejections = "kilo_gateway_admission_rejections_total"
        static let inFlight = "kilo_gateway_in_flight_requests"
        static let configReloads = "kilo_gateway_config_reloads_total"
        static let upstreamConnections = "kilo_gateway_upstream_connections"
    }

    /// Help text of `kilo_gateway_request_duration_seconds`.
    static let requestDurationHelp =
        "Time from receiving the request head to sending the last response byte, by service."

    /// The `service` label value of requests that matched no configured service.
    public static let unknownService = "unknown"

    /// The registry holding every metric except the request-duration histograms.
    public let registry: PrometheusCollectorRegistry
    private let histograms = NIOLockedValueBox([String: LatencyHistogram]())
    private let reloadSuccess: Counter
    private let reloadFailure: Counter

    /// Creates an empty set of metrics with its own registry.
    public init() {
        self.registry = PrometheusCollectorRegistry()
        self.reloadSuccess = registry.makeCounter(
            descriptor: Self.descriptor(Name.configReloads, "Configuration reloads, by result."),
            labels: [("result", "success")]
        )
        self.reloadFailure = registry.makeCounter(
            descriptor: Self.descriptor(Name.configReloads, "Configuration reloads, by result."),
            labels: [("result", "failure")]
        )
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    public func render() -> [UInt8] {
        var buffer = [UInt8]()
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        let histograms = self.histograms.withLockedValue { Array($0.values) }
        guard !histograms.isEmpty else { return buffer }
        buffer.append(contentsOf: "# HELP \(Name.requestDuration) \(Self.requestDurationHelp)\n".utf8)
        buffer.append(contentsOf: "# TYPE \(Name.requestDuration) histogram\n".utf8)
        for histogram in histograms.sorted(by: { $0.service < $1.service }) {
            histogram.emit(into: &buffer)
        }
        return buffer
    }

    // MARK: Off the request path

    /// Sets `kilo_gateway_upstream_endpoint_healthy{service,endpoint}` to 1 or 0.
    public func setEndpointHealthy(service: String, endpoint: String, healthy: Bool) {
        endpointHealthyGauge(service: service, endpoint: endpoint).set(to: healthy ? 1 : 0)
    }

    /// Removes the health gauge of an endpoint that is no longer configured.
    public func removeEndpoint(service: String, endpoint: String) {
        registry.unregisterGauge(endpointHealthyGauge(service: service, endpoint: endpoint))
    }

    /// Counts one passive-health ejection of `endpoint`.
    public func recordEjection(service: String, endpoint: String) {
        registry.makeCounter(
            descriptor: Self.descriptor(Name.ejections, "Endpoints taken out of rotation by outlier detection."),
            labels: [("service", service), ("endpoint", endpoint)]
        ).increment()
    }

    /// Counts one configuration reload attempt.
    public func recordConfigReload(success: Bool) {
        (success ? reloadSuccess : reloadFailure).increment()
    }

    private func endpointHealthyGauge(service: String, endpoint: String) -> Gauge {
        registry.makeGauge(
            descriptor: Self.descriptor(Name.endpointHealthy, "1 if the endpoint is healthy and in rotation, else 0."),
            labels: [("service", service), ("endpoint", endpoint)]
        )
    }

    // MARK: Factories for LoopMetrics (lock + label strings: called once per cache slot)

    func requestCounter(service: String, method: MethodLabel, code: Int) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(Name.requests, "Requests answered, by service, method and status code."),
            labels: [("service", service), ("method", method.name), ("code", String(code))]
        )
    }

    func attemptCounter(service: String, outcome: AttemptOutcome) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(Name.upstreamAttempts, "Attempts to send a request to an upstream, by outcome."),
            labels: [("service", service), ("outcome", outcome.rawValue)]
        )
    }

    func retryCounter(service: String, reason: RetryReason) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(Name.upstreamRetries, "Upstream attempts that were retries, by reason."),
            labels: [("service", service), ("reason", reason.rawValue)]
        )
    }

    func admissionRejectionCounter(service: String, reason: AdmissionRejectionReason) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(
                Name.admissionRejections,
                "Requests refused before reaching an upstream, by reason."
            ),
            labels: [("service", service), ("reason", reason.rawValue)]
        )
    }

    func inFlightGauge(service: String) -> Gauge {
        registry.makeGauge(
            descriptor: Self.descriptor(Name.inFlight, "Requests being handled, by service."),
            labels: [("service", service)]
        )
    }

    func upstreamConnectionsGauge(service: String) -> Gauge {
        registry.makeGauge(
            descriptor: Self.descriptor(Name.upstreamConnections, "Open upstream connections, by service."),
            labels: [("service", service)]
        )
    }

    /// The request-duration histogram of `service`; the same object for the same name.
    func latencyHistogram(service: String) -> LatencyHistogram {
        histograms.withLockedValue { histograms in
            if let existing = histograms[service] { return existing }
            let histogram = LatencyHistogram(name: Name.requestDuration, service: service)
            histograms[service] = histogram
            return histogram
        }
    }

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
