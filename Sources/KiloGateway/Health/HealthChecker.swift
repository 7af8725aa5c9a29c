import GatewayConfiguration
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Active health checks: probes every endpoint of every service that has `healthCheck:`
/// configured, each at its own interval, in the background, and takes endpoints that keep
/// failing out of rotation (``EndpointState/isHealthy``) until they pass again.
///
/// Each endpoint has its own loop; the loops re-read the configuration every round, and a rescan
/// starts loops for endpoints that a reload added, so reloads are picked up without a restart.
/// An endpoint whose service no longer has health checks is marked healthy again.
public struct HealthChecker: Service {
    private let states: UpstreamStates
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onChange: (@Sendable (EndpointState, Bool) -> Void)?
    private let rescanInterval: Duration

    /// - Parameters:
    ///   - onChange: called with the endpoint and its new health whenever it flips (from a background task).
    ///   - rescanInterval: how often the configuration is scanned for endpoints to start checking.
    public init(
        states: UpstreamStates,
        group: any EventLoopGroup,
        logger: Logger,
        onChange: (@Sendable (EndpointState, Bool) -> Void)? = nil,
        rescanInterval: Duration = .seconds(1)
    ) {
        self.states = states
        self.group = group
        self.logger = logger
        self.onChange = onChange
        self.rescanInterval = rescanInterval
    }

    /// Runs until cancelled or until graceful shutdown begins.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.checkUntilCancelled()
        }
    }

    private func checkUntilCancelled() async {
        // Endpoints with a running loop; holding the reference keeps its identifier unique.
        let running = NIOLockedValueBox<[ObjectIdentifier: EndpointState]>([:])
        await withDiscardingTaskGroup { tasks in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                for entry in states.snapshot().values where entry.config.settings.healthCheck != nil {
                    for endpoint in entry.state.endpoints {
                        let id = ObjectIdentifier(endpoint)
                        let isNew = running.withLockedValue { running in
                            guard running[id] == nil else { return false }
                            running[id] = endpoint
                            return true
                        }
                        guard isNew else { continue }
                        tasks.addTask {
                            await self.watch(endpoint)
                            running.withLockedValue { _ = $0.removeValue(forKey: id) }
                        }
                    }
                }
                try? await Task.sleep(for: rescanInterval)
            }
            tasks.cancelAll()
        }
    }

    /// Checks one endpoint until it leaves the configuration, its service stops checking, or cancellation.
    private func watch(_ endpoint: EndpointState) async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            guard let entry = states.snapshot()[endpoint.service],
                entry.state.endpoints.contains(where: { $0 === endpoint })
            else { return }
            guard let check = entry.config.settings.healthCheck else {
                markHealthyAfterChecksRemoved(endpoint)
                return
            }
            let started = clock.now
            let probe = HealthProbe.start(endpoint.url, path: check.path, timeout: check.timeout, on: group.next())
            let result = await withTaskCancellationHandler {
                try? await probe.result.get()
            } onCancel: {
                probe.cancel()
            }
            guard let result, !Task.isCancelled else { return }
            apply(result, of: check, to: endpoint)
            try? await Task.sleep(until: started + check.interval, clock: clock)
        }
    }

    /// Counts one check result; flips `activeHealthy` when a threshold is reached.
    func apply(_ result: ProbeResult, of check: ServiceSettings.HealthCheck, to endpoint: EndpointState) {
        let now = NIODeadline.now()
        let (changed, healthy, count) = endpoint.updateDetails { details in
            // Under the details lock, so the counter and `activeHealthy` change together.
            var counter = HealthCheckCounter(
                healthy: endpoint.activeHealthy.load(ordering: .relaxed),
                consecutiveSuccesses: details.consecutiveCheckSuccesses,
                consecutiveFailures: details.consecutiveCheckFailures
            )
            let changed = counter.record(
                success: result.isHealthy,
                healthyThreshold: check.healthyThreshold,
                unhealthyThreshold: check.unhealthyThreshold
            )
            details.consecutiveCheckSuccesses = counter.consecutiveSuccesses
            details.consecutiveCheckFailures = counter.consecutiveFailures
            details.lastCheckAt = now
            details.lastCheckOK = result.isHealthy
            if let reason = result.failureReason {
                details.lastError = "health check: \(reason)"
                details.lastErrorAt = now
            }
            if changed {
                endpoint.activeHealthy.store(counter.healthy, ordering: .relaxed)
            }
            return (changed, counter.healthy, result.isHealthy ? counter.consecutiveSuccesses : counter.consecutiveFailures)
        }
        if !result.isHealthy && !changed {
            logger.debug(
                "health check failed",
                metadata: ["service": "\(endpoint.service)", "endpoint": "\(endpoint.url)", "reason": "\(result.failureReason ?? "")"])
        }
        guard changed else { return }
        if healthy {
            logger.info(
                "endpoint passed its health checks; back in rotation",
                metadata: ["service": "\(endpoint.service)", "endpoint": "\(endpoint.url)", "successes": "\(count)"])
        } else {
            logger.warning(
                "endpoint failed its health checks; out of rotation",
                metadata: [
                    "service": "\(endpoint.service)", "endpoint": "\(endpoint.url)",
                    "reason": "\(result.failureReason ?? "")", "failures": "\(count)",
                ])
        }
        onChange?(endpoint, healthy)
    }

    /// Without checks nothing could ever bring the endpoint back, so it counts as healthy.
    private func markHealthyAfterChecksRemoved(_ endpoint: EndpointState) {
        let changed = endpoint.updateDetails { details in
            details.consecutiveCheckSuccesses = 0
            details.consecutiveCheckFailures = 0
            return !endpoint.activeHealthy.exchange(true, ordering: .relaxed)
        }
        guard changed else { return }
        logger.info(
            "health checks removed; endpoint back in rotation",
            metadata: ["service": "\(endpoint.service)", "endpoint": "\(endpoint.url)"])
        onChange?(endpoint, true)
    }
}
